"""Segment definitions: the one language the builder, saved segments, exports and tests speak.

A definition is a tree stored as JSON: a :class:`Group` matches ALL (and) or ANY (or) of its
children, which are :class:`Condition` objects or nested groups, and ``negate`` turns a group
into its complement. An empty ALL group matches every customer, an empty ANY group nobody.

The shape is checked by pydantic when JSON is read; what a condition means is checked by
:func:`problems`, which names the node (by its path of child indexes) and says what is wrong,
so the builder can show the message beside the condition. The compiler refuses a definition
that has problems.

Meaning of the operators, the same for every field (the compiler and the reference
evaluator in the tests both follow this text):

- Comparisons (equals, less than, between, contains, …) are false for an unknown value.
- The negative operators (not equals, not in, has none of, not granted, not in segment)
  are the exact complement of their positive twin, so they include unknown values: a
  customer with no gender on file is "not female". NOT on a group is the complement too.
- Text comparisons ignore the case of the letters A-Z only (the same on every engine);
  ``contains`` and ``starts with`` match the typed text literally (``%`` and ``_`` too).
- Money is compared in cents; an amount is read as :mod:`db.core.money` reads every amount
  (a point or a comma, at most two decimals: "49,90" is 49.90).
- "Days since" counts whole days (24 h) before the evaluation time; "in the last N days"
  means on or after that time minus N days; "between dates" includes both days (UTC);
  "more than N days ago" means before that time minus N days.
- Age is in whole years on the evaluation day (born 29 February: a year older on 1 March).
- The prediction scores (probability active, expected purchases, 12-month value) are the
  newest fit's (:mod:`db.predict`); a customer without one (no purchase yet, or added since
  the fit) matches no comparison, only "is unknown". They take decimals and have no
  "equals" or "does not equal": a score is never exactly a typed value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from db.core.money import AmountTooLarge, InvalidAmount, parse_amount
from db.models import (
    CONSENT_PURPOSES,
    CUSTOMER_STATUSES,
    GENDERS,
    INCOME_BANDS,
    INTERACTION_KINDS,
    NPS_BANDS,
    ORDER_CHANNELS,
    SOURCE_CHANNELS,
)

MAX_DAYS = 36_500  # a hundred years: longer windows are typing mistakes
MAX_MONEY = Decimal("1000000000")  # 1e9 in the shop's currency
MAX_COUNT = 1_000_000_000
MAX_TEXT = 200
MAX_LIST = 500
MAX_DEPTH = 6
NPS_GROUPS = tuple(NPS_BANDS)

NUMBER_OPS = ("eq", "ne", "lt", "le", "gt", "ge", "between", "is_known", "is_unknown")
TEXT_OPS = ("eq", "ne", "in", "not_in", "contains", "starts_with", "is_known", "is_unknown")
CHOICE_OPS = ("eq", "ne", "in", "not_in", "is_known", "is_unknown")
DATE_OPS = ("in_last_days", "more_than_days_ago", "between_dates", "is_known", "is_unknown")
SET_OPS = ("has_any", "has_all", "has_none")
FLAG_OPS = ("is_true", "is_false")
CONSENT_OPS = ("granted", "not_granted")
SEGMENT_OPS = ("in_segment", "not_in_segment")
SCORE_OPS = ("lt", "le", "gt", "ge", "between", "is_known", "is_unknown")
NO_VALUE_OPS = frozenset({"is_known", "is_unknown", "is_true", "is_false"})

OP_LABELS = {
    "eq": "equals", "ne": "does not equal", "lt": "is less than", "le": "is at most",
    "gt": "is more than", "ge": "is at least", "between": "is between", "in": "is one of",
    "not_in": "is none of", "contains": "contains", "starts_with": "starts with",
    "is_known": "is known", "is_unknown": "is unknown", "in_last_days": "in the last N days",
    "more_than_days_ago": "more than N days ago", "between_dates": "between dates",
    "has_any": "has any of", "has_all": "has all of", "has_none": "has none of",
    "is_true": "yes", "is_false": "no", "granted": "granted", "not_granted": "not granted",
    "in_segment": "is in segment", "not_in_segment": "is not in segment",
}

Kind = Literal["number", "money", "decimal", "text", "choice", "date", "set", "flag",
               "consent", "segment"]


@dataclass(frozen=True)
class FieldSpec:
    """What a condition on one field may say. ``choices`` empty: values come from the data."""

    name: str
    label: str
    section: str
    kind: Kind
    ops: tuple[str, ...]
    choices: tuple[str, ...] = ()
    windowed: bool = False  # takes a time window (ever, last N days, between dates)
    counted: bool = False  # takes "at least K times"
    by_kind: bool = False  # takes an interaction kind
    minimum: int = 0
    maximum: int = MAX_COUNT
    unit: str = ""
    help: str = ""  # shown under a condition on the field


_UNSCORED = (" A customer without a score (no purchase yet, or added since the newest fit) "
             "matches no comparison, only “is unknown”.")
_FIELDS = (
    FieldSpec("age", "Age", "Profile", "number", NUMBER_OPS, maximum=150, unit="years"),
    FieldSpec("gender", "Gender", "Profile", "choice", CHOICE_OPS, GENDERS),
    FieldSpec("country", "Country", "Profile", "choice", CHOICE_OPS),
    FieldSpec("city", "City", "Profile", "text", TEXT_OPS),
    FieldSpec("postcode", "Postcode", "Profile", "text", TEXT_OPS),
    FieldSpec("income_band", "Income band", "Profile", "choice", CHOICE_OPS, INCOME_BANDS),
    FieldSpec("occupation", "Occupation", "Profile", "text", TEXT_OPS),
    FieldSpec("status", "Status", "Profile", "choice", CHOICE_OPS, CUSTOMER_STATUSES),
    FieldSpec("source", "Source", "Profile", "choice", CHOICE_OPS, SOURCE_CHANNELS),
    FieldSpec("created", "Customer since", "Profile", "date", DATE_OPS),
    FieldSpec("has_email", "Has an email address", "Profile", "flag", FLAG_OPS),
    FieldSpec("has_phone", "Has a phone number", "Profile", "flag", FLAG_OPS),
    FieldSpec("tags", "Tags", "Profile", "set", SET_OPS),
    FieldSpec("consent", "Consent", "Consent", "consent", CONSENT_OPS, CONSENT_PURPOSES),
    FieldSpec("order_count", "Number of orders", "Behaviour", "number", NUMBER_OPS[:7],
              windowed=True, unit="orders"),
    FieldSpec("total_spend", "Total spend", "Behaviour", "money", NUMBER_OPS[:7],
              windowed=True),
    FieldSpec("average_order_value", "Average order value", "Behaviour", "money", NUMBER_OPS,
              windowed=True),
    FieldSpec("days_since_last_order", "Days since last order", "Behaviour", "number",
              NUMBER_OPS, maximum=MAX_DAYS, unit="days"),
    FieldSpec("first_order", "First order", "Behaviour", "date", DATE_OPS),
    FieldSpec("category", "Bought in category", "Behaviour", "set", SET_OPS, windowed=True,
              counted=True),
    FieldSpec("channel", "Ordered through channel", "Behaviour", "set", SET_OPS,
              ORDER_CHANNELS, windowed=True, counted=True),
    FieldSpec("interactions", "Number of interactions", "Engagement", "number",
              NUMBER_OPS[:7], windowed=True, by_kind=True),
    FieldSpec("days_since_last_interaction", "Days since last interaction", "Engagement",
              "number", NUMBER_OPS, maximum=MAX_DAYS, unit="days"),
    FieldSpec("nps_group", "Latest NPS answer", "Engagement", "choice", CHOICE_OPS,
              NPS_GROUPS),
    FieldSpec("p_alive", "Probability active", "Predictions", "decimal", SCORE_OPS,
              maximum=1, help="From 0 to 1, the newest fit's chance that the customer is "
                              "still buying (0.3 is 30%)." + _UNSCORED),
    FieldSpec("expected_purchases_90d", "Expected purchases (next 90 days)", "Predictions",
              "decimal", SCORE_OPS, maximum=100_000, unit="purchases",
              help="The newest fit's expected number of purchases in the 90 days after it."
                   + _UNSCORED),
    FieldSpec("value_12m", "12-month value", "Predictions", "decimal", SCORE_OPS,
              maximum=int(MAX_MONEY), help="The newest fit's expected spend over the 12 "
                                          "months after it, discounted." + _UNSCORED),
    FieldSpec("segment", "Saved segment", "Membership", "segment", SEGMENT_OPS),
)
FIELDS: dict[str, FieldSpec] = {spec.name: spec for spec in _FIELDS}


class Window(BaseModel):
    """When the behaviour counted by a condition happened."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["ever", "last_days", "between"] = "ever"
    days: int | None = None
    start: date | None = None
    end: date | None = None


class Condition(BaseModel):
    """One test on one field; ``value``'s shape depends on the operator (see :func:`problems`)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["condition"] = "condition"
    field: str
    op: str
    value: Any = None
    window: Window | None = None
    min_count: int | None = None  # "at least K times" (category, channel)
    kind: str | None = None  # which interactions to count (None: every kind)


class Group(BaseModel):
    """ALL or ANY of the children; ``negate`` gives the complement."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["group"] = "group"
    match: Literal["all", "any"] = "all"
    negate: bool = False
    children: list[Annotated[Condition | Group, Field(discriminator="type")]] = []


Path = tuple[int, ...]


class InvalidDefinition(ValueError):
    """A definition with problems was given to something that evaluates it."""

    def __init__(self, found: dict[Path, str]) -> None:
        self.problems = found
        first_path, first = next(iter(found.items()))
        where = " › ".join(str(index + 1) for index in first_path) or "the segment"
        super().__init__(f"Condition {where}: {first}")


def parse(raw: str | bytes | dict) -> Group:
    """Read a stored definition (JSON text or a dict); raises pydantic's ValidationError."""
    if isinstance(raw, dict):
        return Group.model_validate(raw)
    return Group.model_validate_json(raw)


def problems(definition: Group) -> dict[Path, str]:
    """Every problem in ``definition``, keyed by the path of child indexes to the node."""
    found: dict[Path, str] = {}
    _check_group(definition, (), found)
    return found


def _check_group(group: Group, path: Path, found: dict[Path, str]) -> None:
    if len(path) >= MAX_DEPTH:
        found[path] = f"Groups can be nested at most {MAX_DEPTH} deep."
        return
    for index, child in enumerate(group.children):
        child_path = (*path, index)
        if isinstance(child, Group):
            _check_group(child, child_path, found)
        elif message := condition_problem(child):
            found[child_path] = message


def unfilled(node: Condition | Group) -> bool:
    """A condition with no value given yet: a step of building it, not a mistake."""
    value = node.value if isinstance(node, Condition) else False
    return value is None or value in ("", []) or (
        isinstance(value, list) and all(item is None or item == "" for item in value))


def only_unfilled(definition: Group, found: dict[Path, str]) -> bool:
    """Whether every problem ``found`` in ``definition`` is an :func:`unfilled` condition."""
    def node_at(path: Path) -> Condition | Group:
        node: Condition | Group = definition
        for index in path:
            assert isinstance(node, Group)
            node = node.children[index]
        return node

    return bool(found) and all(unfilled(node_at(path)) for path in found)


def condition_problem(condition: Condition) -> str | None:
    """What is wrong with one condition, in words for the person building it (None: fine)."""
    spec = FIELDS.get(condition.field)
    if spec is None:
        return "Choose a field."
    if condition.op not in spec.ops:
        return f"{spec.label} cannot be compared with “{OP_LABELS.get(condition.op, '?')}”."
    if message := _extras_problem(spec, condition):
        return message
    if condition.op in NO_VALUE_OPS:
        return None if condition.value is None else "This operator takes no value."
    return _value_problem(spec, condition.op, condition.value)


def _extras_problem(spec: FieldSpec, condition: Condition) -> str | None:
    if condition.window is not None:
        if not spec.windowed:
            return f"{spec.label} has no time window."
        if message := _window_problem(condition.window):
            return message
    if condition.min_count is not None:
        if not takes_min_count(spec, condition.op):
            return "“At least K times” does not apply here."
        if not 1 <= condition.min_count <= MAX_COUNT:
            return "“At least” must be a whole number of times, 1 or more."
    if condition.kind is not None and (not spec.by_kind or
                                       condition.kind not in INTERACTION_KINDS):
        return "Choose one of the interaction kinds, or any kind."
    return None


def takes_min_count(spec: FieldSpec, op: str) -> bool:
    """Whether a condition on ``spec`` with ``op`` may say "at least K times": a counted
    field, but not "has none of" (none is none, however often)."""
    return spec.counted and op != "has_none"


def _window_problem(window: Window) -> str | None:
    if window.kind == "ever":
        return None if window.days is None and window.start is None and window.end is None \
            else "“Ever” takes no days or dates."
    if window.kind == "last_days":
        if window.days is None or not 1 <= window.days <= MAX_DAYS:
            return f"The window must be 1 to {MAX_DAYS:,} days."
        return None
    if window.start is None or window.end is None:
        return "Give both dates of the window."
    if window.start > window.end:
        return "The window's first date is after its last date."
    return None


def _value_problem(spec: FieldSpec, op: str, value: Any) -> str | None:
    if spec.kind == "decimal":
        return _decimal_problem(spec, op, value)
    if op == "between":
        if not isinstance(value, list) or len(value) != 2 or None in value:
            return "Give a lowest and a highest value."
        low, high = value
        for bound in value:
            if message := _scalar_problem(spec, bound):
                return message
        return "The lowest value is above the highest." if _number(low) > _number(high) \
            else None
    if op in ("in", "not_in", "has_any", "has_all", "has_none"):
        if not isinstance(value, list) or not value:
            return "Choose at least one value."
        if len(value) > MAX_LIST:
            return f"Choose at most {MAX_LIST} values."
        for item in value:
            if message := _text_problem(spec, item):
                return message
        return None
    if op in ("in_last_days", "more_than_days_ago"):
        if not _is_int(value) or not (1 if op == "in_last_days" else 0) <= value <= MAX_DAYS:
            return f"Give a number of days from {1 if op == 'in_last_days' else 0} to " \
                   f"{MAX_DAYS:,}."
        return None
    if op == "between_dates":
        if not isinstance(value, list) or len(value) != 2:
            return "Give a first and a last date."
        try:
            first, last = (date.fromisoformat(str(item)) for item in value)
        except ValueError:
            return "Dates must look like 2026-01-31."
        return "The first date is after the last." if first > last else None
    if op in SEGMENT_OPS:
        return None if _is_int(value) and value > 0 else "Choose a saved segment."
    if spec.kind in ("number", "money"):
        return _scalar_problem(spec, value)
    return _text_problem(spec, value)


def _decimal_problem(spec: FieldSpec, op: str, value: Any) -> str | None:
    """A number (decimals allowed) within the field's range, or two for "between"."""
    values = value if op == "between" else [value]
    if op == "between" and (not isinstance(value, list) or len(value) != 2 or None in value):
        return "Give a lowest and a highest value."
    for number in values:
        if number is None:
            return "Give a number."
        if not isinstance(number, int | float) or isinstance(number, bool) \
                or not math.isfinite(number):
            return f"{spec.label} must be a number."
        if not spec.minimum <= number <= spec.maximum:
            return f"{spec.label} must be from {spec.minimum:,} to {spec.maximum:,}."
    if op == "between" and values[0] > values[1]:
        return "The lowest value is above the highest."
    return None


def _scalar_problem(spec: FieldSpec, value: Any) -> str | None:
    """A number within the field's range; money with at most two decimals."""
    if spec.kind == "money":
        try:
            parse_amount(value, largest=MAX_MONEY)
        except AmountTooLarge:
            return f"Amounts are at most {MAX_MONEY:,}."
        except InvalidAmount:
            return "Give an amount like 49.90."
        return None
    if value is None:
        return "Give a number."
    if not _is_int(value):
        return f"{spec.label} must be a whole number."
    if not spec.minimum <= value <= spec.maximum:
        return f"{spec.label} must be from {spec.minimum:,} to {spec.maximum:,}."
    return None


def _text_problem(spec: FieldSpec, value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "Give a value."
    if len(value) > MAX_TEXT:
        return f"Values are at most {MAX_TEXT} characters."
    if "\x00" in value:
        return "Values cannot contain a NUL character."
    if spec.choices and value not in spec.choices:
        return f"“{value}” is not one of the choices for {spec.label}."
    return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> Decimal:
    """A bound of "between" as a number, to compare the two (money or whole numbers)."""
    return parse_amount(value)
