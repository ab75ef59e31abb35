"""Hypothesis strategies: small hostile customer databases and random segment definitions.

Values are drawn from small pools so that conditions actually match some customers, and the
pools are full of what breaks naive SQL: quotes, ``%`` and ``_``, SQL fragments, case
variants, accented capitals, CJK, empty strings and exact window boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from db.core.sql import years_before
from db.models import (
    CONSENT_PURPOSES,
    CUSTOMER_STATUSES,
    GENDERS,
    INCOME_BANDS,
    INTERACTION_KINDS,
    ORDER_CHANNELS,
    SOURCE_CHANNELS,
)
from db.segments.definition import NPS_GROUPS, Condition, Group, Window

AS_OF_CHOICES = [datetime(2026, 6, 15, 12, 0, tzinfo=UTC),
                 datetime(2028, 2, 29, 8, 30, tzinfo=UTC),  # a leap day
                 datetime(2027, 3, 1, 0, 0, tzinfo=UTC)]
TEXTS = ["Berlin", "berlin", "BERLIN", "Ölberg", "ölberg", "100%", "a_b", "aXb", "O'Brien",
         "' OR 1=1 --", "", "日本", "Zürich", "x\\y", "%_%"]
FRAGMENTS = ["ber", "BER", "%", "_", "'", "--", "ö", "Ö", "日", "a_", "\\", "1=1", "Zü",
             "\"; DROP TABLE customer; --"]
CATEGORIES = ["Books", "books", "100% Cotton", "a_b", "x'y", "Ölberg"]
TAGS = ["vip", "VIP", "50%_off", "o'hara", "ünï"]
COUNTRIES = ["DE", "FR", "US"]
POSTCODES = ["10115", "1011", "AB1 2CD", "ab1", "%1", ""]
AMOUNTS = [Decimal(v) for v in ("0.10", "0.20", "0.70", "0.00", "-5.00", "19.99", "100.00")]
MONEY_VALUES = [0, "0.1", "0.3", "0.33", "0.34", "0.8", "0.35", "-5", "19.99", "20", "100",
                "33.33"]


@dataclass
class Dataset:
    as_of: datetime
    customers: list[dict] = field(default_factory=list)
    orders: list[dict] = field(default_factory=list)
    interactions: list[dict] = field(default_factory=list)
    feedback: list[dict] = field(default_factory=list)
    consent: list[dict] = field(default_factory=list)
    tags: list[tuple[int, str]] = field(default_factory=list)


def _moment(draw: st.DrawFn, as_of: datetime) -> datetime:
    """A time near ``as_of``, often exactly N days before it (give or take a microsecond)."""
    # Often exactly on a boundary the conditions below ask about (N or N+1 days).
    days = draw(st.one_of(st.sampled_from([0, 1, 2, 3, 7, 8, 19, 27, 30, 31, 32, 365, 366, 401,
                                           801]), st.integers(-2, 800)))
    nudge = draw(st.sampled_from([0, 0, 1, -1, 3_600_000_000, 43_200_000_000]))
    return as_of - timedelta(days=days) + timedelta(microseconds=nudge)


def _maybe(draw: st.DrawFn, values: list) -> object:
    return draw(st.one_of(st.none(), st.sampled_from(values)))


@st.composite
def datasets(draw: st.DrawFn) -> Dataset:
    as_of = draw(st.sampled_from(AS_OF_CHOICES))
    data = Dataset(as_of=as_of)
    count = draw(st.integers(3, 10))
    for customer_id in range(1, count + 1):
        born = draw(st.one_of(st.none(), st.dates(date(1900, 1, 1), as_of.date()),
                              st.sampled_from([date(2000, 2, 29), date(1996, 2, 29),
                                               years_before(as_of.date(), 36)])))
        data.customers.append({
            "id": customer_id, "first_name": "P", "last_name": str(customer_id),
            "birth_date": born, "gender": _maybe(draw, list(GENDERS)),
            "country": draw(st.sampled_from(COUNTRIES)), "city": _maybe(draw, TEXTS),
            "postcode": _maybe(draw, POSTCODES), "income_band": _maybe(draw, list(INCOME_BANDS)),
            "occupation": _maybe(draw, TEXTS), "status": draw(st.sampled_from(CUSTOMER_STATUSES)),
            "source": _maybe(draw, list(SOURCE_CHANNELS)),
            "email": draw(st.sampled_from([None, f"p{customer_id}@example.com"])),
            "phone": draw(st.sampled_from([None, "", "+49301234567"])),
            "created_at": _moment(draw, as_of),
            "deleted_at": draw(st.sampled_from([None, None, None, as_of])),
        })
        for _ in range(draw(st.integers(0, 4))):
            data.orders.append({
                "customer_id": customer_id, "ordered_at": _moment(draw, as_of),
                "amount": draw(st.sampled_from(AMOUNTS)),
                "category": draw(st.sampled_from(CATEGORIES)),
                "channel": draw(st.sampled_from(ORDER_CHANNELS))})
        for _ in range(draw(st.integers(0, 2))):
            data.interactions.append({"customer_id": customer_id, "at": _moment(draw, as_of),
                                      "kind": draw(st.sampled_from(INTERACTION_KINDS))})
        same_time = _moment(draw, as_of)  # ties are broken by the later row
        for _ in range(draw(st.integers(0, 2))):
            data.feedback.append({"customer_id": customer_id,
                                  "at": draw(st.sampled_from([same_time, _moment(draw, as_of)])),
                                  "nps_score": draw(st.integers(0, 10))})
        for _ in range(draw(st.integers(0, 3))):
            data.consent.append({"customer_id": customer_id,
                                 "purpose": draw(st.sampled_from(CONSENT_PURPOSES)),
                                 "granted": draw(st.booleans()),
                                 "at": draw(st.sampled_from([same_time, _moment(draw, as_of)]))})
        for tag in draw(st.sets(st.sampled_from(TAGS), max_size=3)):
            data.tags.append((customer_id, tag))
    return data


@st.composite
def windows(draw: st.DrawFn) -> Window | None:
    kind = draw(st.sampled_from([None, "ever", "last_days", "between"]))
    if kind is None:
        return None
    if kind == "ever":
        return Window()
    if kind == "last_days":
        return Window(kind="last_days", days=draw(st.sampled_from([1, 7, 30, 365, 800])))
    start = draw(st.dates(date(2024, 1, 1), date(2028, 3, 1)))
    return Window(kind="between", start=start,
                  end=start + timedelta(days=draw(st.integers(0, 400))))


def _number_value(draw: st.DrawFn, op: str, values: list) -> object:
    if op == "between":
        low, high = sorted(draw(st.lists(st.sampled_from(values), min_size=2, max_size=2)),
                           key=Decimal)
        return [low, high]
    return draw(st.sampled_from(values))


def _ops(draw: st.DrawFn, ops: list[str]) -> str:
    return draw(st.sampled_from(ops))


@st.composite
def conditions(draw: st.DrawFn, saved_ids: tuple[int, ...] = ()) -> Condition:
    fields = ["age", "gender", "country", "city", "postcode", "income_band", "occupation",
              "status", "source", "created", "has_email", "has_phone", "tags", "consent",
              "order_count", "total_spend", "average_order_value", "days_since_last_order",
              "first_order", "category", "channel", "interactions",
              "days_since_last_interaction", "nps_group"]
    if saved_ids:
        fields.append("segment")
    name = draw(st.sampled_from(fields))
    number_ops = ["eq", "ne", "lt", "le", "gt", "ge", "between"]
    known_ops = ["is_known", "is_unknown"]
    if name in ("age", "days_since_last_order", "days_since_last_interaction"):
        op = _ops(draw, number_ops + known_ops)
        pool = [0, 1, 2, 18, 26, 30, 31, 365, 400, 800] if name != "age" else \
            [0, 18, 25, 26, 30, 36, 60, 100, 126]
        value = None if op in known_ops else _number_value(draw, op, pool)
        return Condition(field=name, op=op, value=value)
    if name in ("gender", "country", "income_band", "status", "source", "nps_group"):
        choices = {"gender": GENDERS, "country": COUNTRIES, "income_band": INCOME_BANDS,
                   "status": CUSTOMER_STATUSES, "source": SOURCE_CHANNELS,
                   "nps_group": NPS_GROUPS}[name]
        op = _ops(draw, ["eq", "ne", "in", "not_in", *known_ops])
        value = (None if op in known_ops else draw(st.sampled_from(list(choices)))
                 if op in ("eq", "ne") else
                 draw(st.lists(st.sampled_from(list(choices)), min_size=1, max_size=3)))
        return Condition(field=name, op=op, value=value)
    if name in ("city", "postcode", "occupation"):
        op = _ops(draw, ["eq", "ne", "in", "not_in", "contains", "starts_with", *known_ops])
        pool = [t for t in TEXTS + POSTCODES + FRAGMENTS if t.strip()]
        value = (None if op in known_ops else
                 draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3))
                 if op in ("in", "not_in") else draw(st.sampled_from(pool)))
        return Condition(field=name, op=op, value=value)
    if name in ("created", "first_order"):
        op = _ops(draw, ["in_last_days", "more_than_days_ago", "between_dates", *known_ops])
        if op in known_ops:
            return Condition(field=name, op=op)
        if op == "between_dates":
            start = draw(st.dates(date(2024, 1, 1), date(2028, 3, 1)))
            end = start + timedelta(days=draw(st.integers(0, 400)))
            return Condition(field=name, op=op, value=[start.isoformat(), end.isoformat()])
        low = 1 if op == "in_last_days" else 0
        return Condition(field=name, op=op,
                         value=draw(st.sampled_from([low, 7, 30, 365, 800])))
    if name in ("has_email", "has_phone"):
        return Condition(field=name, op=_ops(draw, ["is_true", "is_false"]))
    if name == "tags":
        return Condition(field=name, op=_ops(draw, ["has_any", "has_all", "has_none"]),
                         value=draw(st.lists(st.sampled_from([*TAGS, "%", "_"]), min_size=1,
                                             max_size=3)))
    if name == "consent":
        return Condition(field=name, op=_ops(draw, ["granted", "not_granted"]),
                         value=draw(st.sampled_from(CONSENT_PURPOSES)))
    if name in ("order_count", "interactions"):
        op = _ops(draw, number_ops)
        return Condition(field=name, op=op, value=_number_value(draw, op, [0, 1, 2, 3, 5]),
                         window=draw(windows()),
                         kind=draw(st.sampled_from([None, *INTERACTION_KINDS]))
                         if name == "interactions" else None)
    if name in ("total_spend", "average_order_value"):
        ops = number_ops + (known_ops if name == "average_order_value" else [])
        op = _ops(draw, ops)
        value = None if op in known_ops else _number_value(draw, op, MONEY_VALUES)
        return Condition(field=name, op=op, value=value, window=draw(windows()))
    if name in ("category", "channel"):
        op = _ops(draw, ["has_any", "has_all", "has_none"])
        pool = [*CATEGORIES, "%", "_", "books'"] if name == "category" else list(ORDER_CHANNELS)
        return Condition(field=name, op=op,
                         value=draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3)),
                         window=draw(windows()),
                         min_count=None if op == "has_none" else
                         draw(st.sampled_from([None, 1, 2, 3])))
    return Condition(field="segment", op=_ops(draw, ["in_segment", "not_in_segment"]),
                     value=draw(st.sampled_from(saved_ids)))


def definitions(saved_ids: tuple[int, ...] = ()) -> st.SearchStrategy[Group]:
    """Random trees of ALL/ANY groups, some negated (empty groups have their own test)."""
    def group_of(children: st.SearchStrategy) -> st.SearchStrategy[Group]:
        return st.builds(Group, match=st.sampled_from(["all", "any"]), negate=st.booleans(),
                         children=st.lists(children, min_size=1, max_size=3))

    leaves = conditions(saved_ids)
    return group_of(st.recursive(leaves, lambda inner: group_of(inner), max_leaves=5))


@st.composite
def beside_a_country(draw: st.DrawFn, saved_ids: tuple[int, ...] = ()) -> Group:
    """"Country is …" beside a category bought in a short window, alone or in a random
    group, under "all of" (the buyers kept by country are then read for those countries
    only) or "any of" (they must not be): the shapes :meth:`Windows.bought` narrows."""
    countries = draw(st.lists(st.sampled_from(COUNTRIES), min_size=1, max_size=2, unique=True))
    country = (Condition(field="country", op="in", value=countries)
               if len(countries) > 1 or draw(st.booleans())
               else Condition(field="country", op="eq", value=countries[0]))
    bought = Condition(field="category", op=_ops(draw, ["has_any", "has_all", "has_none"]),
                       value=draw(st.lists(st.sampled_from(CATEGORIES), min_size=1,
                                           max_size=2)),
                       window=Window(kind="last_days", days=draw(st.sampled_from([1, 7, 30]))))
    inner = Group(match=draw(st.sampled_from(["all", "any"])), negate=draw(st.booleans()),
                  children=draw(st.permutations([bought, draw(definitions(saved_ids))])))
    return Group(match=draw(st.sampled_from(["all", "any"])), negate=draw(st.booleans()),
                 children=draw(st.permutations([country, draw(st.sampled_from([bought,
                                                                               inner]))])))
