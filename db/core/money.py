"""Amounts of money as a person types them or a definition stores them: one parser for all.

An order's amount and a segment's "total spend at least 49,90" mean the same thing by the
same text: a decimal number (Python's ``Decimal`` syntax) with a point or a comma before at
most two decimals (whole cents), surrounding spaces ignored, a sign allowed (refunds are
negative). Anything else is refused with a reason rather than guessed at: "1.234" is not
read as a thousand, and "1.234,56" (two separators) is not an amount.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pycountry

from db.core.fields import InvalidValue

_CENT = Decimal("0.01")

# The largest amount an order holds: its column is NUMERIC(12, 2), ten digits before the point.
LARGEST_AMOUNT = Decimal("9999999999.99")


class InvalidAmount(ValueError):
    """A value that is not an amount of money; the subclass says why."""


class NotAnAmount(InvalidAmount):
    """Not a number at all (text, a yes/no, nothing)."""


class AmountTooLarge(InvalidAmount):
    """Beyond the largest amount the caller accepts, or beyond every amount (Infinity, NaN:
    an order form has always called those too large)."""


class TooManyDecimals(InvalidAmount):
    """More than two decimal places: not a whole number of cents."""


def parse_amount(value: object, *, largest: Decimal | None = None) -> Decimal:
    """``value`` (text, int, float or Decimal) as an exact amount with at most two decimals.

    Raises :class:`NotAnAmount`, :class:`AmountTooLarge` (``abs(amount) > largest``; checked
    before the decimals, so a huge amount is called too large) or :class:`TooManyDecimals`.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise NotAnAmount(f"{value!r} is not an amount")
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise NotAnAmount(f"{value!r} is not an amount") from None
    if not amount.is_finite() or (largest is not None and abs(amount) > largest):
        raise AmountTooLarge(f"{value!r} is larger than {largest}")
    try:
        in_cents = amount == amount.quantize(_CENT)
    except InvalidOperation:  # more digits than a Decimal holds: no caller's amount
        raise AmountTooLarge(f"{value!r} is too large") from None
    if not in_cents:
        raise TooManyDecimals(f"{value!r} has more than two decimals")
    return amount


def to_cents(value: object) -> int:
    """An amount (anything :func:`parse_amount` reads) in whole cents, as an exact integer.

    Not to be confused with :func:`db.core.sql.cents`, the SQL twin for an amount column.
    """
    return int(parse_amount(value) * 100)


def normalise_currency(value: object) -> str:
    """An ISO 4217 currency code, upper-cased: ``" eur "`` → ``"EUR"``; otherwise
    :class:`~db.core.fields.InvalidValue` saying what to type. The one currency rule of an
    order, an import's default and the house currency (``db.admin.settings``)."""
    text = str(value or "").strip().upper()
    if len(text) != 3 or not text.isascii() or pycountry.currencies.get(alpha_3=text) is None:
        raise InvalidValue(f"{str(value or '').strip()!r} is not a currency: use its three-letter"
                           " ISO 4217 code, such as EUR, USD or CHF.")
    return text
