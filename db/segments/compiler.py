"""Compiles a segment definition into one SQLAlchemy query, identical on SQLite and PostgreSQL.

Every column comes from the field table below (an allow-list: a definition names fields, never
columns) and every value is a bound parameter; nothing typed by a person becomes SQL text.
Each condition compiles to an expression that is TRUE or FALSE, never NULL, so that NOT and
the negative operators are exact complements (see :mod:`db.segments.definition`).

The query reads ``customer_summary``, which holds the "ever" figures (orders, spend, last
order, last contact, NPS, consent, channels used) and copies of the profile fields, and joins
the customer table only for the free-text fields (city, postcode, occupation)
(:mod:`db.segments.rows`). Windowed figures are :mod:`db.segments.windows`'s; comparisons of
one column are :mod:`db.segments.comparisons`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, not_, or_, select, true
from sqlmodel import col

from db.core.sql import years_before
from db.derived.models import CHANNEL_BITS, listed
from db.derived.ranks import CONTACT_RANKS, ORDER_RANKS
from db.models import NPS_BANDS, CustomerTag, Tag
from db.segments.comparisons import cents, choice, compare, compare_value, text, texts, whole
from db.segments.definition import Condition, Group, InvalidDefinition, problems
from db.segments.rows import (
    INTERACTIONS,
    KEY,
    ORDERS,
    PREDICTIONS,
    C,
    S,
    reads_only_rows,
    rows_for,
)
from db.segments.windows import Windows, ever

# Positive twin of each negative operator: "not in" is NOT "in", and so on.
_POSITIVE = {"ne": "eq", "not_in": "in", "has_none": "has_any", "not_granted": "granted",
             "not_in_segment": "in_segment", "is_unknown": "is_known", "is_false": "is_true"}
# Fields that are one column compared with their values, by the kind of comparison.
_CHOICE_COLUMNS = {"gender": S.gender, "country": S.country, "income_band": S.income_band,
                   "status": S.status, "source": S.source}
_TEXT_COLUMNS = {"city": C.city, "postcode": C.postcode, "occupation": C.occupation}
_FLAG_COLUMNS = {"has_email": S.has_email, "has_phone": S.has_phone}

# What a saved segment stands for when another definition refers to it: its definition
# (dynamic), a query of its member ids (static), or None when it no longer exists.
Resolved = Group | Select[Any] | None


class SegmentCycle(ValueError):
    """A definition refers, directly or through others, to itself."""


class UnknownSegment(ValueError):
    """A definition refers to a saved segment that no longer exists."""


@dataclass
class _Compiler:
    as_of: datetime
    resolve: Callable[[int], Resolved]
    visiting: list[int] = field(default_factory=list)
    # The countries an enclosing "all of" group restricts its customers to, if any.
    countries: frozenset[str] | None = None

    def __post_init__(self) -> None:
        self.windows = Windows(self.as_of)

    # -- tree ------------------------------------------------------------------------

    def group(self, group: Group) -> ColumnElement[bool]:
        # Under "all of" with "country is one of …", every condition inside is asked only of
        # customers in those countries; a condition that reads rows kept with the country
        # may read only theirs (the group stays exact, negated or not: see windows.bought).
        outer = self.countries
        if group.match == "all":
            self.countries = _narrowed(outer, _countries_required(group))
        try:
            parts = sorted((self.node(child) for child in group.children), key=_cost)
        finally:
            self.countries = outer
        if group.match == "all":
            combined = and_(*parts) if parts else true()
        else:
            combined = or_(*parts) if parts else false()
        return not_(combined) if group.negate else combined

    def node(self, node: Condition | Group) -> ColumnElement[bool]:
        if isinstance(node, Group):
            return self.group(node)
        if node.op in _POSITIVE:
            return not_(self.positive(node, _POSITIVE[node.op]))
        return self.positive(node, node.op)

    def positive(self, condition: Condition, op: str) -> ColumnElement[bool]:
        name = condition.field
        if name in _CHOICE_COLUMNS:
            return choice(_CHOICE_COLUMNS[name], op, condition.value)
        if name in _TEXT_COLUMNS:
            return text(_TEXT_COLUMNS[name], op, condition.value)
        if name in _FLAG_COLUMNS:
            return _FLAG_COLUMNS[name].is_(True)
        handler: Callable[[Condition, str], ColumnElement[bool]] = getattr(
            self, "field_" + name)
        return handler(condition, op)

    # -- profile ---------------------------------------------------------------------

    def field_age(self, condition: Condition, op: str) -> ColumnElement[bool]:
        born = S.birth_date
        if op == "is_known":
            return born.is_not(None)
        today = self.as_of.astimezone(UTC).date()

        def at_least(years: int) -> ColumnElement[bool]:
            return born <= years_before(today, years)

        def at_most(years: int) -> ColumnElement[bool]:
            return born > years_before(today, years + 1)

        return and_(born.is_not(None), compare(op, condition.value, at_least, at_most))

    def field_created(self, condition: Condition, op: str) -> ColumnElement[bool]:
        return self.windows.moment(S.created_at, op, condition.value)

    def field_tags(self, condition: Condition, op: str) -> ColumnElement[bool]:
        def tagged(names: list[str]) -> ColumnElement[bool]:
            # One set of the tagged customers, read once: probing the tags of every customer
            # is much slower on a large database.
            return KEY.in_(select(col(CustomerTag.customer_id)).join(Tag).where(
                col(Tag.name).in_(names)))

        if op == "has_all":
            return and_(*(tagged([name]) for name in texts(condition.value)))
        return tagged(texts(condition.value))

    # -- consent ---------------------------------------------------------------------

    def field_consent(self, condition: Condition, op: str) -> ColumnElement[bool]:
        return S["consent_" + str(condition.value)].is_(True)

    # -- behaviour -------------------------------------------------------------------

    def field_order_count(self, condition: Condition, op: str) -> ColumnElement[bool]:
        if ever(condition.window):
            return compare_value(op, condition.value, S.order_count)
        where = self.windows.bounds(ORDERS.c.ordered_at, condition.window)
        return self.windows.counted(ORDERS, condition.window, where, op, condition.value,
                                    newest=S.last_order_at, total=S.order_count,
                                    ranks=ORDER_RANKS)

    def field_total_spend(self, condition: Condition, op: str) -> ColumnElement[bool]:
        _, spend = self.windows.order_figures(condition.window)
        return compare_value(op, cents(condition.value), spend)

    def field_average_order_value(self, condition: Condition, op: str) -> ColumnElement[bool]:
        """avg ≷ v  ⇔  spend ≷ v × count when count > 0: exact integer arithmetic."""
        count, spend = self.windows.order_figures(condition.window)
        has_orders = count > 0
        if op == "is_known":
            return has_orders
        value = cents(condition.value)
        if op == "between":
            assert isinstance(value, list)
            low, high = (whole(bound) for bound in value)
            test = and_(spend >= count * low, spend <= count * high)
        else:
            # Strict where the operator is strict: an average can fall between two cents.
            target = count * whole(value)
            test = {"eq": spend == target, "ge": spend >= target, "gt": spend > target,
                    "le": spend <= target, "lt": spend < target}[op]
        return and_(has_orders, test)

    def field_days_since_last_order(self, condition: Condition,
                                    op: str) -> ColumnElement[bool]:
        return self.windows.days_since(S.last_order_at, op, condition.value)

    def field_first_order(self, condition: Condition, op: str) -> ColumnElement[bool]:
        return self.windows.moment(S.first_order_at, op, condition.value)

    def field_category(self, condition: Condition, op: str) -> ColumnElement[bool]:
        return self.windows.bought(ORDERS.c.category, condition, op, countries=self.countries)

    def field_channel(self, condition: Condition, op: str) -> ColumnElement[bool]:
        if ever(condition.window) and (condition.min_count or 1) == 1:
            # The summary's bits of the channels used: a column test, not a probe of orders.
            # A set: a channel named twice is still one bit (summed twice, it is another's).
            wanted = sorted({CHANNEL_BITS[name] for name in texts(condition.value)})
            if op == "has_all":
                return and_(*(S.channels.bitwise_and(bit) != 0 for bit in wanted))
            return S.channels.bitwise_and(sum(wanted)) != 0
        return self.windows.bought(ORDERS.c.channel, condition, op)

    # -- engagement ------------------------------------------------------------------

    def field_interactions(self, condition: Condition, op: str) -> ColumnElement[bool]:
        where = self.windows.bounds(INTERACTIONS.c.at, condition.window)
        if condition.kind is not None:
            where.append(INTERACTIONS.c.kind == condition.kind)
        if ever(condition.window):
            count = select(func.count()).select_from(INTERACTIONS).where(
                INTERACTIONS.c.customer_id == KEY, *where).scalar_subquery()
            return compare_value(op, condition.value, count)
        return self.windows.counted(INTERACTIONS, condition.window, where, op,
                                    condition.value, newest=S.last_interaction_at,
                                    ranks=CONTACT_RANKS, narrowed=condition.kind is not None)

    def field_days_since_last_interaction(self, condition: Condition,
                                          op: str) -> ColumnElement[bool]:
        return self.windows.days_since(S.last_interaction_at, op, condition.value)

    def field_nps_group(self, condition: Condition, op: str) -> ColumnElement[bool]:
        score = S.latest_nps
        if op == "is_known":
            return score.is_not(None)
        groups = [str(condition.value)] if op == "eq" else texts(condition.value)
        return and_(score.is_not(None),
                    or_(*(score.between(*NPS_BANDS[name]) for name in groups)))

    # -- predictions -----------------------------------------------------------------

    def field_p_alive(self, condition: Condition, op: str) -> ColumnElement[bool]:
        return _scored(PREDICTIONS.c.p_alive, op, condition.value)

    def field_expected_purchases_90d(self, condition: Condition,
                                     op: str) -> ColumnElement[bool]:
        return _scored(PREDICTIONS.c.expected_purchases_90d, op, condition.value)

    def field_value_12m(self, condition: Condition, op: str) -> ColumnElement[bool]:
        return _scored(PREDICTIONS.c.value_12m, op, condition.value)

    # -- membership ------------------------------------------------------------------

    def field_segment(self, condition: Condition, op: str) -> ColumnElement[bool]:
        segment_id = whole(condition.value)
        if segment_id in self.visiting:
            raise SegmentCycle("A segment cannot include itself, directly or through "
                               "another segment.")
        target = self.resolve(segment_id)
        if target is None:
            raise UnknownSegment(f"Saved segment #{segment_id} no longer exists.")
        if not isinstance(target, Group):
            return KEY.in_(target)
        if problems(target):
            raise UnknownSegment(f"Saved segment #{segment_id} has a condition that needs "
                                 "fixing; open it in the builder.")
        self.visiting.append(segment_id)
        try:
            return self.group(target)
        finally:
            self.visiting.pop()


def _scored(score: ColumnElement[Any], op: str, value: object) -> ColumnElement[bool]:
    """A comparison of a stored score, as the set of customers whose score passes it (read
    once through the score's index). No score, or no row (added since the fit), fails."""
    test: ColumnElement[bool]
    if op == "is_known":
        test = score.is_not(None)
    elif op == "between":
        assert isinstance(value, list) and len(value) == 2, value
        test = score.between(float(value[0]), float(value[1]))
    else:
        assert isinstance(value, int | float), value
        test = {"lt": score < float(value), "le": score <= float(value),
                "gt": score > float(value), "ge": score >= float(value)}[op]
    return KEY.in_(select(PREDICTIONS.c.customer_id).where(test))


def _countries_required(group: Group) -> frozenset[str] | None:
    """The countries an "all of" group's own conditions restrict its customers to, if any
    ("country is DE", "country is one of DE, AT"; several: the countries they share)."""
    required: frozenset[str] | None = None
    for child in group.children:
        if isinstance(child, Condition) and child.field == "country" and child.op in {
                "eq", "in"}:
            values = [str(child.value)] if child.op == "eq" else texts(child.value)
            required = _narrowed(required, frozenset(values))
    return required


def _narrowed(outer: frozenset[str] | None,
              inner: frozenset[str] | None) -> frozenset[str] | None:
    if outer is None or inner is None:
        return inner if outer is None else outer
    return outer & inner


def _cost(test: ColumnElement[bool]) -> int:
    """1 for a test that reads other tables (orders, contacts, tags), 0 for one on the row's
    own columns. A group tests the cheap ones first, so that AND and OR stop early. Judged
    by the compiled test, not the field: "no order in 180 days" is a summary test and runs
    before "2 contacts in 180 days", whose contacts are then read only for the customers
    who pass it."""
    return 0 if reads_only_rows(test) else 1


def condition_of(definition: Group, *, as_of: datetime,
                 resolve: Callable[[int], Resolved], segment_id: int | None = None
                 ) -> ColumnElement[bool]:
    """The WHERE clause of ``definition`` (over :func:`~db.segments.rows.rows_for` of it).

    ``segment_id`` is the saved segment being evaluated, if any, so that a definition that
    names itself is refused as a cycle.
    """
    found = problems(definition)
    if found:
        raise InvalidDefinition(found)
    compiler = _Compiler(as_of=as_of, resolve=resolve,
                         visiting=[segment_id] if segment_id is not None else [])
    return and_(listed(), compiler.group(definition))


def members(definition: Group, *, as_of: datetime, resolve: Callable[[int], Resolved],
            segment_id: int | None = None) -> Select[Any]:
    """``SELECT customer_id`` of the live customers that ``definition`` matches."""
    where = condition_of(definition, as_of=as_of, resolve=resolve, segment_id=segment_id)
    return select(S.customer_id).select_from(rows_for(where)).where(where)
