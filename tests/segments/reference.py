"""An independent evaluator of segment definitions, in pandas, for testing the SQL compiler.

It reads the raw tables (never ``customer_summary``) and follows the semantics written in
:mod:`db.segments.definition`, using no code from the compiler: each node becomes a boolean
Series indexed by customer id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pandas as pd
from sqlalchemy import Engine, select

from db.models import ConsentEvent, Customer, CustomerTag, Feedback, Interaction, Order, Tag
from db.predict.models import CustomerPrediction
from db.segments.definition import Condition, Group, Window

SCORES = ["p_alive", "expected_purchases_90d", "value_12m"]
NPS = {"promoter": range(9, 11), "passive": range(7, 9), "detractor": range(0, 7)}


@dataclass
class Frames:
    customers: pd.DataFrame
    orders: pd.DataFrame
    interactions: pd.DataFrame
    feedback: pd.DataFrame
    consent: pd.DataFrame
    tags: pd.DataFrame  # customer_id, name
    predictions: pd.DataFrame  # customer_id, p_alive, expected_purchases_90d, value_12m


def _frame(engine: Engine, statement, columns: list[str]) -> pd.DataFrame:
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(statement)]
    return pd.DataFrame(rows, columns=columns, dtype=object)


def load(engine: Engine) -> Frames:
    customer_columns = ["id", "birth_date", "gender", "country", "city", "postcode",
                        "income_band", "occupation", "status", "source", "created_at",
                        "email", "phone", "deleted_at", "erased_at"]
    c = Customer.__table__.c
    return Frames(
        customers=_frame(engine, select(*(c[name] for name in customer_columns)),
                         customer_columns).set_index("id", drop=False),
        orders=_frame(engine, select(Order.id, Order.customer_id, Order.ordered_at, Order.amount,
                                     Order.category, Order.channel),
                      ["id", "customer_id", "at", "amount", "category", "channel"]),
        interactions=_frame(engine, select(Interaction.id, Interaction.customer_id,
                                           Interaction.at, Interaction.kind),
                            ["id", "customer_id", "at", "kind"]),
        feedback=_frame(engine, select(Feedback.id, Feedback.customer_id, Feedback.at,
                                       Feedback.nps_score),
                        ["id", "customer_id", "at", "score"]),
        consent=_frame(engine, select(ConsentEvent.id, ConsentEvent.customer_id,
                                      ConsentEvent.purpose, ConsentEvent.granted,
                                      ConsentEvent.at),
                       ["id", "customer_id", "purpose", "granted", "at"]),
        tags=_frame(engine, select(CustomerTag.customer_id, Tag.name)
                    .join(Tag, Tag.id == CustomerTag.tag_id), ["customer_id", "name"]),
        predictions=_frame(engine, select(CustomerPrediction.customer_id,
                                          CustomerPrediction.p_alive,
                                          CustomerPrediction.expected_purchases_90d,
                                          CustomerPrediction.value_12m),
                           ["customer_id", *SCORES]),
    )


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _days(earlier: datetime, now: datetime) -> int:
    return (now - earlier) // timedelta(days=1)


def _number_test(op: str, value) -> Callable[[object], bool]:
    """A test on a known number (or Decimal); unknown values are handled by the caller."""
    if op == "between":
        low, high = (Decimal(str(v)) for v in value)
        return lambda x: low <= x <= high
    target = Decimal(str(value))
    return {"eq": lambda x: x == target, "ne": lambda x: x != target,
            "lt": lambda x: x < target, "le": lambda x: x <= target,
            "gt": lambda x: x > target, "ge": lambda x: x >= target}[op]


def _fold(text: str) -> str:
    return "".join(chr(ord(ch) + 32) if "A" <= ch <= "Z" else ch for ch in text)


class Reference:
    def __init__(self, frames: Frames, as_of: datetime,
                 saved: dict[int, Group | set[int]] | None = None) -> None:
        self.f = frames
        self.as_of = as_of
        self.saved = saved or {}
        self.ids = list(frames.customers["id"])

    def members(self, definition: Group) -> set[int]:
        live = self.f.customers["deleted_at"].isna() & self.f.customers["erased_at"].isna()
        chosen = self.group(definition) & live
        return {int(i) for i in chosen[chosen].index}

    # -- tree --------------------------------------------------------------------------

    def series(self, values: dict[int, bool] | Callable[[int], bool]) -> pd.Series:
        if callable(values):
            return pd.Series({i: bool(values(i)) for i in self.ids}, dtype=bool)
        return pd.Series({i: bool(values.get(i, False)) for i in self.ids}, dtype=bool)

    def group(self, group: Group) -> pd.Series:
        result = self.series(lambda _: group.match == "all")
        for child in group.children:
            part = self.group(child) if isinstance(child, Group) else self.condition(child)
            result = (result & part) if group.match == "all" else (result | part)
        return ~result if group.negate else result

    def condition(self, cond: Condition) -> pd.Series:
        negatives = {"ne": "eq", "not_in": "in", "has_none": "has_any",
                     "not_granted": "granted", "not_in_segment": "in_segment"}
        if cond.op in negatives:
            positive = cond.model_copy(update={"op": negatives[cond.op]})
            return ~self.condition(positive)
        return self.series(getattr(self, "f_" + cond.field)(cond))

    # -- helpers -----------------------------------------------------------------------

    def column(self, name: str) -> dict[int, object]:
        frame = self.f.customers
        pairs = zip(frame["id"], frame[name], strict=True)
        return {int(i): (None if pd.isna(v) else v) for i, v in pairs}

    def in_window(self, at: datetime, window: Window | None) -> bool:
        if window is None or window.kind == "ever":
            return True
        if window.kind == "last_days":
            return at >= self.as_of - timedelta(days=window.days)
        start = datetime.combine(window.start, time(), tzinfo=UTC)
        end = datetime.combine(window.end, time(), tzinfo=UTC) + timedelta(days=1)
        return start <= at < end

    def rows_of(self, frame: pd.DataFrame, window: Window | None) -> pd.DataFrame:
        if frame.empty:
            return frame
        keep = [self.in_window(at, window) for at in frame["at"]]
        return frame[keep]

    def on_value(self, values: dict[int, object], cond: Condition,
                 test: Callable[[object], bool]) -> Callable[[int], bool]:
        if cond.op == "is_known":
            return lambda i: values.get(i) is not None
        if cond.op == "is_unknown":
            return lambda i: values.get(i) is None
        return lambda i: values.get(i) is not None and test(values[i])

    def text_field(self, cond: Condition, name: str) -> Callable[[int], bool]:
        values = self.column(name)
        if cond.op == "is_known":
            return lambda i: values[i] not in (None, "")
        if cond.op == "is_unknown":
            return lambda i: values[i] in (None, "")
        if cond.op == "contains":
            return lambda i: values[i] is not None and _fold(cond.value) in _fold(values[i])
        if cond.op == "starts_with":
            return lambda i: values[i] is not None and _fold(values[i]).startswith(
                _fold(cond.value))
        wanted = {_fold(v) for v in ([cond.value] if cond.op == "eq" else cond.value)}
        return lambda i: values[i] is not None and _fold(values[i]) in wanted

    def choice_field(self, cond: Condition, values: dict[int, object]) -> Callable[[int], bool]:
        wanted = set([cond.value] if cond.op == "eq" else cond.value or [])
        return self.on_value(values, cond, lambda v: v in wanted)

    def moment_field(self, cond: Condition, values: dict[int, object]) -> Callable[[int], bool]:
        if cond.op == "in_last_days":
            test = lambda at: at >= self.as_of - timedelta(days=cond.value)  # noqa: E731
        elif cond.op == "more_than_days_ago":
            test = lambda at: at < self.as_of - timedelta(days=cond.value)  # noqa: E731
        elif cond.op == "between_dates":
            first, last = (date.fromisoformat(v) for v in cond.value)
            test = lambda at: first <= at.astimezone(UTC).date() <= last  # noqa: E731
        else:
            test = lambda at: True  # noqa: E731
        return self.on_value(values, cond, test)

    def per_customer(self, frame: pd.DataFrame, how: Callable[[pd.DataFrame], object]
                     ) -> dict[int, object]:
        result: dict[int, object] = {}
        for customer_id, rows in frame.groupby("customer_id"):
            result[int(customer_id)] = how(rows)
        return result

    def newest(self, frame: pd.DataFrame, column: str) -> dict[int, object]:
        def pick(rows: pd.DataFrame) -> object:
            ordered = sorted(zip(rows["at"], rows["id"], rows[column], strict=True),
                             key=lambda r: (r[0], r[1]))
            return ordered[-1][2]
        return self.per_customer(frame, pick) if not frame.empty else {}

    # -- profile -----------------------------------------------------------------------

    def f_age(self, cond: Condition):
        today = self.as_of.astimezone(UTC).date()
        born = self.column("birth_date")
        ages = {i: (_age(b, today) if b is not None else None) for i, b in born.items()}
        return self.on_value(ages, cond, _number_test(cond.op, cond.value)
                             if cond.op not in ("is_known", "is_unknown") else None)

    def f_gender(self, cond):
        return self.choice_field(cond, self.column("gender"))

    def f_country(self, cond):
        return self.choice_field(cond, self.column("country"))

    def f_income_band(self, cond):
        return self.choice_field(cond, self.column("income_band"))

    def f_status(self, cond):
        return self.choice_field(cond, self.column("status"))

    def f_source(self, cond):
        return self.choice_field(cond, self.column("source"))

    def f_city(self, cond):
        return self.text_field(cond, "city")

    def f_postcode(self, cond):
        return self.text_field(cond, "postcode")

    def f_occupation(self, cond):
        return self.text_field(cond, "occupation")

    def f_created(self, cond):
        return self.moment_field(cond, self.column("created_at"))

    def f_has_email(self, cond):
        values = self.column("email")
        has = lambda i: values[i] not in (None, "")  # noqa: E731
        return has if cond.op == "is_true" else (lambda i: not has(i))

    def f_has_phone(self, cond):
        values = self.column("phone")
        has = lambda i: values[i] not in (None, "")  # noqa: E731
        return has if cond.op == "is_true" else (lambda i: not has(i))

    def f_tags(self, cond):
        owned: dict[int, set[str]] = {}
        for customer_id, name in zip(self.f.tags["customer_id"], self.f.tags["name"], strict=True):
            owned.setdefault(int(customer_id), set()).add(name)
        wanted = set(cond.value)
        if cond.op == "has_all":
            return lambda i: wanted <= owned.get(i, set())
        return lambda i: bool(wanted & owned.get(i, set()))

    # -- consent -----------------------------------------------------------------------

    def f_consent(self, cond):
        events = self.f.consent[self.f.consent["purpose"] == cond.value]
        current = self.newest(events, "granted")
        return lambda i: bool(current.get(i, False))

    # -- behaviour ---------------------------------------------------------------------

    def order_figures(self, window: Window | None) -> tuple[dict[int, int], dict[int, Decimal]]:
        rows = self.rows_of(self.f.orders, window)
        counts = {i: 0 for i in self.ids}
        spend = {i: Decimal(0) for i in self.ids}
        pairs = zip(rows.get("customer_id", []), rows.get("amount", []), strict=True)
        for customer_id, amount in pairs:
            counts[int(customer_id)] += 1
            spend[int(customer_id)] += Decimal(str(amount)).quantize(Decimal("0.01"))
        return counts, spend

    def f_order_count(self, cond):
        counts, _ = self.order_figures(cond.window)
        test = _number_test(cond.op, cond.value)
        return lambda i: test(counts[i])

    def f_total_spend(self, cond):
        _, spend = self.order_figures(cond.window)
        test = _number_test(cond.op, cond.value)
        return lambda i: test(spend[i])

    def f_average_order_value(self, cond):
        counts, spend = self.order_figures(cond.window)
        averages = {i: (spend[i] / counts[i] if counts[i] else None) for i in self.ids}
        test = (_number_test(cond.op, cond.value)
                if cond.op not in ("is_known", "is_unknown") else None)
        return self.on_value(averages, cond, test)

    def last_days(self, frame: pd.DataFrame, cond: Condition) -> Callable[[int], bool]:
        last = self.per_customer(frame, lambda rows: max(rows["at"])) if not frame.empty else {}
        days = {i: _days(at, self.as_of) for i, at in last.items()}
        test = (_number_test(cond.op, cond.value)
                if cond.op not in ("is_known", "is_unknown") else None)
        return self.on_value(days, cond, test)

    def f_days_since_last_order(self, cond):
        return self.last_days(self.f.orders, cond)

    def f_first_order(self, cond):
        orders = self.f.orders
        first = self.per_customer(orders, lambda rows: min(rows["at"])) if not orders.empty else {}
        return self.moment_field(cond, first)

    def bought(self, cond: Condition, column: str) -> Callable[[int], bool]:
        rows = self.rows_of(self.f.orders, cond.window)
        times = cond.min_count or 1
        counts: dict[tuple[int, str], int] = {}
        pairs = zip(rows.get("customer_id", []), rows.get(column, []), strict=True)
        for customer_id, value in pairs:
            key = (int(customer_id), value)
            counts[key] = counts.get(key, 0) + 1
        if cond.op == "has_all":
            return lambda i: all(counts.get((i, v), 0) >= times for v in cond.value)
        wanted = set(cond.value)
        return lambda i: sum(counts.get((i, v), 0) for v in wanted) >= times

    def f_category(self, cond):
        return self.bought(cond, "category")

    def f_channel(self, cond):
        return self.bought(cond, "channel")

    # -- engagement --------------------------------------------------------------------

    def f_interactions(self, cond):
        rows = self.rows_of(self.f.interactions, cond.window)
        counts = {i: 0 for i in self.ids}
        pairs = zip(rows.get("customer_id", []), rows.get("kind", []), strict=True)
        for customer_id, kind in pairs:
            if cond.kind is None or kind == cond.kind:
                counts[int(customer_id)] += 1
        test = _number_test(cond.op, cond.value)
        return lambda i: test(counts[i])

    def f_days_since_last_interaction(self, cond):
        return self.last_days(self.f.interactions, cond)

    def f_nps_group(self, cond):
        scores = self.newest(self.f.feedback, "score")
        groups = {i: next(name for name, span in NPS.items() if s in span)
                  for i, s in scores.items()}
        return self.choice_field(cond, groups)

    # -- predictions -------------------------------------------------------------------

    def score(self, cond: Condition, name: str) -> Callable[[int], bool]:
        """A customer without a row or with no score is unknown; decimals compared as is."""
        frame = self.f.predictions
        values = {int(i): (None if v is None or pd.isna(v) else float(v))
                  for i, v in zip(frame["customer_id"], frame[name], strict=True)}
        if cond.op == "between":
            low, high = (float(v) for v in cond.value)
            test: Callable[[object], bool] | None = lambda x: low <= x <= high  # noqa: E731
        elif cond.op in ("is_known", "is_unknown"):
            test = None
        else:
            target = float(cond.value)
            test = {"lt": lambda x: x < target, "le": lambda x: x <= target,
                    "gt": lambda x: x > target, "ge": lambda x: x >= target}[cond.op]
        return self.on_value(values, cond, test)

    def f_p_alive(self, cond):
        return self.score(cond, "p_alive")

    def f_expected_purchases_90d(self, cond):
        return self.score(cond, "expected_purchases_90d")

    def f_value_12m(self, cond):
        return self.score(cond, "value_12m")

    # -- membership --------------------------------------------------------------------

    def f_segment(self, cond):
        target = self.saved[int(cond.value)]
        chosen = target if isinstance(target, set) else self.members(target)
        return lambda i: i in chosen
