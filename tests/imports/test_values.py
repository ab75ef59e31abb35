"""Dates, times, amounts and currencies as files write them, and the messages when they fail."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from db.customers.validation import InvalidValue
from db.imports.values import (
    date_order,
    parse_amount,
    parse_currency,
    parse_date,
    parse_datetime,
    split_amount,
)


@pytest.mark.parametrize(("text", "day_first", "day"), [
    ("2024-03-05", None, date(2024, 3, 5)), ("2024/3/5", False, date(2024, 3, 5)),
    ("2024.03.05", True, date(2024, 3, 5)), ("20240305", None, date(2024, 3, 5)),
    ("05.03.2024", None, date(2024, 3, 5)), ("5.3.2024", False, date(2024, 3, 5)),
    ("5.3.24", None, date(2024, 3, 5)), ("12.7.85", None, date(1985, 7, 12)),
    ("03/05/2024", True, date(2024, 5, 3)), ("03/05/2024", False, date(2024, 3, 5)),
    ("13/05/2024", None, date(2024, 5, 13)), ("05/13/2024", None, date(2024, 5, 13)),
    ("3-5-24", True, date(2024, 5, 3)), ("12/1/2010 8:26", False, date(2010, 12, 1)),
    ("2024-03-05T23:30:00-05:00", None, date(2024, 3, 5)),  # the date as written
    (" 2024-03-05 14:30 ", None, date(2024, 3, 5)), ("05.03.2024 14:30:00", None,
                                                     date(2024, 3, 5)),
])
def test_dates_in_the_common_formats(text: str, day_first: bool | None, day: date) -> None:
    assert parse_date(text, day_first=day_first) == day


def test_two_digit_years_fall_in_the_hundred_years_ending_this_year() -> None:
    this_year = date.today().year % 100
    assert parse_date(f"1.1.{this_year:02d}", day_first=None).year == date.today().year
    next_year = (this_year + 1) % 100
    assert parse_date(f"1.1.{next_year:02d}", day_first=None).year == \
        date.today().year + 1 - 100


@pytest.mark.parametrize(("text", "day_first", "message"), [
    ("", None, "The date is missing."),
    ("03/05/2024", None, "could be day/month or month/day"),
    ("03/25/2024", True, "not a date in day/month/year order"),
    ("25/03/2024", False, "not a date in month/day/year order"),
    ("31.02.2024", None, "not a day of the calendar"),
    ("2024-13-01", None, "not a day of the calendar"),
    ("0202-03-05", None, "too long ago"),
    ("yesterday", None, "is not a date"),
    ("2024-03-05 later", None, "is not a time of day"),
    ("2024-03-05x", None, "is not a date"),
    ("2024-03-05 25:00", None, "is not a time of day"),
])
def test_what_is_not_a_date_says_why(text: str, day_first: bool | None, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        parse_date(text, day_first=day_first)


@pytest.mark.parametrize(("text", "moment"), [
    ("2024-03-05 14:30", datetime(2024, 3, 5, 14, 30, tzinfo=UTC)),
    ("2024-03-05T14:30:15Z", datetime(2024, 3, 5, 14, 30, 15, tzinfo=UTC)),
    ("2024-03-05T14:30:00+02:00", datetime(2024, 3, 5, 12, 30, tzinfo=UTC)),
    ("2024-03-05T23:30:00-0500", datetime(2024, 3, 6, 4, 30, tzinfo=UTC)),
    ("2024-03-05 14:30:00.123456", datetime(2024, 3, 5, 14, 30, 0, 123456, tzinfo=UTC)),
    ("2024-03-05", datetime(2024, 3, 5, tzinfo=UTC)),
    ("05.03.2024 09:05", datetime(2024, 3, 5, 9, 5, tzinfo=UTC)),
    ("12/1/2010 8:26 PM", datetime(2010, 12, 1, 20, 26, tzinfo=UTC)),
    ("12/1/2010 12:05 am", datetime(2010, 12, 1, 0, 5, tzinfo=UTC)),
])
def test_datetimes_are_utc(text: str, moment: datetime) -> None:
    parsed = parse_datetime(text, day_first=False)
    assert parsed == moment and parsed.utcoffset() is not None


@pytest.mark.parametrize(("column", "order"), [
    (["05.03.2024", "06.03.2024"], "day_first"),  # dots are day first by convention
    (["03/05/2024", "13/05/2024", ""], "day_first"),
    (["03/05/2024", "05/13/2024"], "month_first"),
    (["03/05/2024", "04/06/2024"], "ambiguous"),
    (["13/05/2024", "05/13/2024"], "ambiguous"),  # contradicting: the user decides
    (["2024-03-05", "20240306", "", "n/a"], "none"),
    ([], "none"),
])
def test_date_order_of_a_column(column: list[str], order: str) -> None:
    assert date_order(iter(column)) == order


def test_mixed_formats_in_one_column_each_read_or_refused_by_its_own_row() -> None:
    column = ["2024-03-05", "05.03.2024", "03/05/2024", "20240305", "2024-03-05T10:00:00"]
    order = date_order(column)
    assert order == "day_first"
    assert {parse_date(text, day_first=order == "day_first") for text in column} == {
        date(2024, 3, 5), date(2024, 5, 3)}


@pytest.mark.parametrize(("text", "amount"), [
    ("1.234,56", "1234.56"), ("1,234.56", "1234.56"), ("1234,5", "1234.5"),
    ("-12.00", "-12.00"), ("(12.00)", "-12.00"), ("12.00-", "-12.00"), ("−3,10", "-3.10"),
    ("€ 12,50", "12.50"), ("12.50 EUR", "12.50"), ("12,50€", "12.50"), ("-€12.50", "-12.50"),
    ("€-12.50", "-12.50"), ("1 234,56", "1234.56"), ("1\u00a0234,56", "1234.56"),
    ("1\u202f234.56", "1234.56"), ("1'234.56", "1234.56"), ("1.234.567,89", "1234567.89"),
    ("1,234,567", "1234567"), ("1.234", "1234"), ("1,234", "1234"), ("0,125", None),
    ("12", "12"), ("+7", "7"), (",5", "0.5"), ("0.10", "0.10"), ("USD 1,000.00", "1000.00"),
    ("1234.567", None), ("12.345", "12345"), ("CHF 12.-", "12"), ("12,- €", "12"), ("-12,-", "-12"),
])
def test_amounts_with_any_separators_and_currency_beside_them(text: str,
                                                              amount: str | None) -> None:
    if amount is None:
        with pytest.raises(InvalidValue):
            parse_amount(text)
    else:
        assert parse_amount(text) == Decimal(amount)


@pytest.mark.parametrize(("text", "message"), [
    ("", "The amount is missing."), ("abc", "is not an amount"), ("12 50", "is not an amount"),
    ("1,2,3", "is not an amount"), ("1.23.4", "is not an amount"), ("1.234.56", "not an"),
    ("12.345,6.7", "is not an amount"), ("--12", "is not an amount"), ("€ 12 $", "not an"),
    ("1234.505", "more than two decimals"), ("0,125", "more than two decimals"),
    ("12345678901", "larger than any order"), ("1e3", "is not an amount"),
    ("12 XYZ", "is not an amount"),
])
def test_what_is_not_an_amount_says_why(text: str, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        parse_amount(text)


def test_a_currency_written_beside_the_amount_is_named() -> None:
    assert split_amount("€ 12,50") == (Decimal("12.50"), "EUR")
    assert split_amount("12.50 usd") == (Decimal("12.50"), "USD")
    assert split_amount("£3") == (Decimal(3), "GBP")
    assert split_amount("1.234,00") == (Decimal("1234.00"), None)


@pytest.mark.parametrize(("text", "code"), [
    ("EUR", "EUR"), ("eur", "EUR"), (" € ", "EUR"), ("$", "USD"), ("US$", "USD"),
    ("£", "GBP"), ("CHF", "CHF"), ("Fr.", "CHF"), ("jpy", "JPY"), ("Euro", "EUR"),
])
def test_currencies_by_code_or_symbol(text: str, code: str) -> None:
    assert parse_currency(text) == code


@pytest.mark.parametrize("text", ["", "XYZ", "euros and cents", "DM", "12"])
def test_an_unknown_currency_is_refused(text: str) -> None:
    with pytest.raises(InvalidValue, match="is not a currency"):
        parse_currency(text)
