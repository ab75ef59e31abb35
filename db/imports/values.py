"""Dates, times, amounts and currencies as spreadsheets and shop exports write them.

Each parser returns the value or raises :class:`~db.customers.validation.InvalidValue` with a
message for the person who uploaded the file. The rules:

- **Dates**: year first (``2024-03-05``, ``2024/3/5``, ``2024.03.05``), ``20240305``, dots
  (``05.03.2024``, ``5.3.24``: always day first — the dotted form is the European one, no
  month-first convention writes it) and slashes or dashes (``03/05/2024``, ``3-5-24``), which
  ``day_first`` reads as day/month (True) or month/day (False). With ``day_first=None`` a
  slash date is read only when one part is over 12; "03/05/2024" is then refused as
  ambiguous, and :func:`date_order` tells the caller to ask. A time after the date (``T`` or
  a space) is allowed; :func:`parse_date` takes the date as written.
- **Two-digit years** fall in the hundred years ending this year: in 2026, "26" is 2026 and
  "27" is 1927 (orders and birth dates are never in the future). Years before 1800 are
  refused as typos.
- **Date-times** (:func:`parse_datetime`) are UTC-aware: an offset (``Z``, ``+02:00``,
  ``-0500``) is converted to UTC, a time without one is taken as UTC, a bare date is
  midnight UTC. Seconds, fractions and ``AM``/``PM`` are read.
- **Amounts** (:func:`parse_amount`): a point or a comma before the decimals and the other
  one, a space, a no-break space or an apostrophe between groups of three digits
  (``1.234,56``, ``1,234.56``, ``1 234,56``, ``1'234.56``); a currency symbol or ISO code
  before or after (``€ 12,50``, ``12.50 EUR``); ``12,-`` for twelve; negative as ``-12.00``,
  ``12.00-`` or, as accountants write it, ``(12.00)``. A single separator followed by
  exactly three digits ("1.234", "1,234") is read as thousands: three decimals would not be
  whole cents, so that is its only reading as an amount. More than two decimals are refused.
  The final check (two decimals, the largest storable amount) is :mod:`db.core.money`'s, the
  one the order form uses; that module's stricter syntax stays the rule for typed amounts.
- **Currencies** (:func:`parse_currency`): an ISO 4217 code in any case, or ``€`` (EUR),
  ``$`` (USD), ``£`` (GBP), ``¥`` (JPY), ``Fr.``/``SFr.`` (CHF).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal

import pycountry

from db.core import money
from db.customers.validation import InvalidValue

DateOrder = Literal["day_first", "month_first", "ambiguous", "none"]
"""The largest amount an order holds (its column is ``Numeric(12, 2)``)."""

_YEAR_FIRST = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(?!\d)")
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})(?!\d)")
_SLASHED = re.compile(r"(\d{1,2})([/-])(\d{1,2})\2(\d{4}|\d{2})(?!\d)")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(?:([AaPp])\.?[Mm]\.?)?"
                   r"\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?", re.I)
_SYMBOLS = {"€": "EUR", "EURO": "EUR", "EUROS": "EUR", "$": "USD", "US$": "USD", "£": "GBP",
            "¥": "JPY", "FR.": "CHF", "SFR.": "CHF", "SFR": "CHF"}
_LEADING_CURRENCY = re.compile(r"(US\$|SFr\.?|Fr\.|[€$£¥]|[A-Za-z]{3,5}(?![A-Za-z]))", re.I)
_TRAILING_CURRENCY = re.compile(r"(?<![A-Za-z])(US\$|SFr\.?|Fr\.|[€$£¥]|[A-Za-z]{3,5})$", re.I)
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "’": "'",
                         "\u2212": "-"})


def parse_date(text: str, *, day_first: bool | None) -> date:
    """The calendar date ``text`` names (see the module's rules); a time after it is checked
    and ignored."""
    day, _ = _date_and_rest(text, day_first)
    return day


def parse_datetime(text: str, *, day_first: bool | None) -> datetime:
    """The UTC-aware moment ``text`` names: offsets converted, naive times and bare dates
    taken as UTC."""
    day, clock = _date_and_rest(text, day_first)
    if clock is None:
        return datetime.combine(day, time(0), tzinfo=UTC)
    moment, offset = clock
    return datetime.combine(day, moment, tzinfo=UTC) - offset


def date_order(samples: Iterable[str]) -> DateOrder:
    """How a column writes its day/month dates: "day_first" or "month_first" when some value
    shows it (a part over 12, or a dotted date) and none contradicts it; "ambiguous" when
    every such date reads both ways, or values contradict each other (ask the user); "none"
    when the column holds no such date (ISO, ``yyyymmdd``, empty or not dates at all)."""
    seen = day_first = month_first = False
    for sample in samples:
        text = sample.strip()
        if _DOTTED.match(text):
            seen = day_first = True
        elif found := _SLASHED.match(text):
            seen = True
            first, second = int(found.group(1)), int(found.group(3))
            day_first |= first > 12 >= second
            month_first |= second > 12 >= first
    if not seen:
        return "none"
    if day_first != month_first:
        return "day_first" if day_first else "month_first"
    return "ambiguous"


def parse_amount(text: str) -> Decimal:
    """The amount ``text`` writes (see the module's rules), at most two decimals."""
    return split_amount(text)[0]


def split_amount(text: str) -> tuple[Decimal, str | None]:
    """The amount and the ISO code of a currency written beside it ("€ 12,50" → (12.50,
    "EUR")), or None when there is none."""
    rest = text.translate(_SPACES).strip()
    if not rest:
        raise InvalidValue("The amount is missing.")
    negative = False
    if rest.startswith("(") and rest.endswith(")"):
        negative, rest = True, rest[1:-1].strip()
    currency: str | None = None
    signed = negative
    while True:
        before = rest
        for pattern in (_LEADING_CURRENCY, _TRAILING_CURRENCY):
            found = pattern.search(rest) if pattern is _TRAILING_CURRENCY else pattern.match(rest)
            if found:
                code = _currency_or_none(found.group(1))
                if code is None or (currency is not None and code != currency):
                    raise InvalidValue(f"{text.strip()!r} is not an amount.")
                currency = code
                rest = (rest[:found.start()] + rest[found.end():]).strip()
        if rest.endswith((".-", ",-", ".–", ",–")):  # "12,-": twelve, no cents
            rest = rest[:-2]
        if rest[:1] in ("-", "+") or rest[-1:] == "-":
            if signed:
                raise InvalidValue(f"{text.strip()!r} is not an amount.")
            signed, negative = True, "-" in (rest[:1], rest[-1:])
            rest = (rest[1:] if rest[:1] in ("-", "+") else rest[:-1]).strip()
        if rest == before:
            break
    try:
        amount = money.parse_amount(_plain_number(rest, text), largest=money.LARGEST_AMOUNT)
    except money.TooManyDecimals:
        raise InvalidValue(f"{text.strip()!r} has more than two decimals (whole cents "
                           "only).") from None
    except money.AmountTooLarge:
        raise InvalidValue(f"{text.strip()!r} is larger than any order can be.") from None
    except money.InvalidAmount:
        raise InvalidValue(f"{text.strip()!r} is not an amount.") from None
    return (-amount if negative else amount), currency


def parse_currency(text: str) -> str:
    """The ISO 4217 code of ``text`` ("eur", "€", "$" → "USD")."""
    code = _currency_or_none(text)
    if code is None:
        raise InvalidValue(f"{text.strip()!r} is not a currency (use an ISO code such as "
                           "EUR).")
    return code


def _currency_or_none(text: str) -> str | None:
    key = text.strip().upper()
    code = _SYMBOLS.get(key, key)
    if len(code) == 3 and code.isalpha() and pycountry.currencies.get(alpha_3=code):
        return code
    return None


def _plain_number(body: str, text: str) -> str:
    """``body`` ("1.234,56") as Decimal syntax ("1234.56"); separators as the module says."""
    refused = InvalidValue(f"{text.strip()!r} is not an amount.")
    separators = [char for char in body if not char.isdigit()]
    if not body or any(char not in " .,'" for char in separators) or not any(
            char.isdigit() for char in body):
        raise refused
    kinds = set(separators)
    decimal: str | None = None
    if len(kinds) > 2:
        raise refused
    if separators and separators[-1] in ".,":
        last = separators[-1]
        if len(kinds) == 2:
            if separators.count(last) != 1:
                raise refused
            decimal = last
        elif len(separators) == 1:
            whole, fraction = body.split(last)
            if not (len(fraction) == 3 and 1 <= len(whole) <= 3 and whole[0] != "0"):
                decimal = last
    elif len(kinds) == 2:
        raise refused
    whole, _, fraction = body.rpartition(decimal) if decimal else (body, "", "")
    grouping = kinds - {decimal}
    if grouping:
        groups = whole.split(grouping.pop())
        if not 1 <= len(groups[0]) <= 3 or any(len(group) != 3 for group in groups[1:]):
            raise refused
        whole = "".join(groups)
    return (whole or "0") + ("." + fraction if fraction else "")


def _date_and_rest(text: str, day_first: bool | None
                   ) -> tuple[date, tuple[time, timedelta] | None]:
    value = text.strip()
    if not value:
        raise InvalidValue("The date is missing.")
    parts = _date_parts(value, day_first)
    if parts is None:
        raise InvalidValue(f"{value!r} is not a date (write it as YYYY-MM-DD, DD.MM.YYYY or "
                           "MM/DD/YYYY).")
    (year, month, day), end = parts
    if year < 1800:
        raise InvalidValue(f"{value!r}: the year {year} is too long ago; a typo?")
    try:
        found = date(year, month, day)
    except ValueError:
        raise InvalidValue(f"{value!r} is not a day of the calendar.") from None
    rest = value[end:]
    if not rest:
        return found, None
    if rest[0] not in "T ":
        raise InvalidValue(f"{value!r} is not a date.")
    return found, _clock(rest[1:].strip(), value)


def _date_parts(value: str, day_first: bool | None
                ) -> tuple[tuple[int, int, int], int] | None:
    if found := _YEAR_FIRST.match(value):
        return (int(found[1]), int(found[3]), int(found[4])), found.end()
    if found := _COMPACT.match(value):
        return (int(found[1]), int(found[2]), int(found[3])), found.end()
    if found := _DOTTED.match(value):
        return (_year(found[3]), int(found[2]), int(found[1])), found.end()
    if found := _SLASHED.match(value):
        first, second = int(found[1]), int(found[3])
        if day_first is None:
            if first > 12 >= second:
                day_first = True
            elif second > 12 >= first:
                day_first = False
            else:
                raise InvalidValue(
                    f"{value!r} could be day/month or month/day; say which order the file "
                    "uses.")
        day, month = (first, second) if day_first else (second, first)
        if month > 12:
            order = "day/month/year" if day_first else "month/day/year"
            raise InvalidValue(f"{value!r} is not a date in {order} order, as the other "
                               "dates of this column are.")
        return (_year(found[4]), month, day), found.end()
    return None


def _year(digits: str) -> int:
    if len(digits) == 4:
        return int(digits)
    this_year = date.today().year
    year = this_year // 100 * 100 + int(digits)
    return year if year <= this_year else year - 100


def _clock(text: str, value: str) -> tuple[time, timedelta]:
    found = _TIME.fullmatch(text)
    if found is None:
        raise InvalidValue(f"{value!r}: {text!r} is not a time of day.")
    hour, minute = int(found[1]), int(found[2])
    second = int(found[3] or 0)
    micro = int((found[4] or "0")[:6].ljust(6, "0"))
    if found[5]:
        if not 1 <= hour <= 12:
            raise InvalidValue(f"{value!r}: {hour} is not an hour of AM/PM.")
        hour = hour % 12 + (12 if found[5].lower() == "p" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise InvalidValue(f"{value!r}: {text!r} is not a time of day.")
    return time(hour, minute, second, micro), _offset(found[6])


def _offset(text: str | None) -> timedelta:
    if not text or text.upper() in ("Z", "UTC", "GMT"):
        return timedelta(0)
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 14 or minutes > 59:
        raise InvalidValue(f"{text!r} is not a time-zone offset.")
    offset = timedelta(hours=hours, minutes=minutes)
    return -offset if text[0] == "-" else offset
