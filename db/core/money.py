"""Amounts of money as a person types them or a definition stores them: one parser for all.

An order's amount and a segment's "total spend at least 49,90" mean the same thing by the
same text: a decimal number with a point or a comma before at most two decimals (whole
cents), surrounding spaces ignored, a sign allowed (refunds are negative). Anything else is
refused with a reason rather than guessed at: "1.234" is not read as a thousand, "1e3" and
"1_000" are not amounts.
"""

from __future__ import annotations

import re
from decimal import Decimal

_CENT = Decimal("0.01")
# Digits with one decimal separator, point or comma; no exponent, grouping or underscores.
_AMOUNT = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)")


class InvalidAmount(ValueError):
    """A value that is not an amount of money; the subclass says why."""


class NotAnAmount(InvalidAmount):
    """Not a number at all (text, a yes/no, nothing)."""


class AmountTooLarge(InvalidAmount):
    """Beyond the largest amount the caller accepts."""


class TooManyDecimals(InvalidAmount):
    """More than two decimal places: not a whole number of cents."""


def parse_amount(value: object, *, largest: Decimal | None = None) -> Decimal:
    """``value`` (text, int, float or Decimal) as an exact amount with at most two decimals.

    Raises :class:`NotAnAmount`, :class:`AmountTooLarge` (``abs(amount) > largest``; checked
    before the decimals, so a huge amount is called too large) or :class:`TooManyDecimals`.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise NotAnAmount(f"{value!r} is not an amount")
    if isinstance(value, str):
        text = value.strip()
        if not _AMOUNT.fullmatch(text):
            raise NotAnAmount(f"{value!r} is not an amount")
        amount = Decimal(text.replace(",", "."))
    else:
        amount = Decimal(str(value))
        if amount.is_nan():
            raise NotAnAmount(f"{value!r} is not an amount")
    if not amount.is_finite() or (largest is not None and abs(amount) > largest):
        raise AmountTooLarge(f"{value!r} is larger than {largest}")
    if amount != amount.quantize(_CENT):
        raise TooManyDecimals(f"{value!r} has more than two decimals")
    return amount


def to_cents(value: object) -> int:
    """An amount (anything :func:`parse_amount` reads) in whole cents, as an exact integer.

    Not to be confused with :func:`db.core.sql.cents`, the SQL twin for an amount column.
    """
    return int(parse_amount(value) * 100)
