"""A condition's operator applied to one column with the definition's values, as bound
parameters: whole-number comparisons built from "at least" and "at most", choices and text.

Each test is TRUE or FALSE, never NULL (an unknown value fails it), so that the compiler's
negative operators are exact complements. The values were checked by
:func:`db.segments.definition.problems`; the narrowing helpers here only state their types.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, and_

from db.core.money import to_cents
from db.core.sql import AsciiLower, filled, fold_ascii

Test = Callable[[int], ColumnElement[bool]]


def whole(value: object) -> int:
    """A checked whole-number value (a count, days, years or cents)."""
    assert isinstance(value, int), value
    return value


def texts(value: object) -> list[str]:
    """A checked list of values (one of, has any of, ...)."""
    assert isinstance(value, list), value
    return [str(item) for item in value]


def cents(value: object) -> object:
    """A checked amount, or a pair of them for "between", in whole cents."""
    if isinstance(value, list):
        return [to_cents(item) for item in value]
    return to_cents(value)


def compare(op: str, value: object, at_least: Test, at_most: Test) -> ColumnElement[bool]:
    """A whole-number comparison built from "at least" and "at most" tests."""
    if op == "between":
        assert isinstance(value, list) and len(value) == 2, value
        low, high = (whole(bound) for bound in value)
        return and_(at_least(low), at_most(high))
    number = whole(value)
    return {
        "eq": lambda: and_(at_least(number), at_most(number)),
        "ge": lambda: at_least(number),
        "gt": lambda: at_least(number + 1),
        "le": lambda: at_most(number),
        "lt": lambda: at_most(number - 1),
    }[op]()


def compare_value(op: str, value: object, column: ColumnElement[Any]) -> ColumnElement[bool]:
    """A whole-number comparison on a column that is never NULL (counts, cents)."""
    return compare(op, value, lambda number: column >= number,
                   lambda number: column <= number)


def choice(column: ColumnElement[Any], op: str, value: object) -> ColumnElement[bool]:
    """equals, one of, is known on a column of vocabulary values."""
    if op == "is_known":
        return column.is_not(None)
    values = [str(value)] if op == "eq" else texts(value)
    return and_(column.is_not(None), column.in_(values))


def text(column: ColumnElement[Any], op: str, value: object) -> ColumnElement[bool]:
    """A free-text comparison ignoring the case of A-Z only; ``%`` and ``_`` match as typed."""
    if op == "is_known":
        return filled(column)
    folded = AsciiLower(column)
    if op == "contains":
        test = folded.contains(fold_ascii(str(value)), autoescape=True)
    elif op == "starts_with":
        test = folded.startswith(fold_ascii(str(value)), autoescape=True)
    else:
        values = [str(value)] if op == "eq" else texts(value)
        test = folded.in_([fold_ascii(item) for item in values])
    return and_(column.is_not(None), test)
