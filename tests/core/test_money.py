"""The one money parser: what an order form and a segment definition accept as an amount."""

from __future__ import annotations

from decimal import Decimal

import pytest

from db.core.money import (
    AmountTooLarge,
    NotAnAmount,
    TooManyDecimals,
    parse_amount,
    to_cents,
)


@pytest.mark.parametrize(("typed", "amount"), [
    ("12,50", Decimal("12.50")), ("12.50", Decimal("12.50")), (" 3 ", Decimal(3)),
    ("-49,90", Decimal("-49.90")), ("+7", Decimal(7)), (",5", Decimal("0.5")),
    ("5.", Decimal(5)), (12, Decimal(12)), (Decimal("0.10"), Decimal("0.10")),
    (19.99, Decimal("19.99")), ("1e3", Decimal(1000)),
])
def test_a_point_or_a_comma_before_at_most_two_decimals(typed: object,
                                                       amount: Decimal) -> None:
    assert parse_amount(typed) == amount


@pytest.mark.parametrize("typed", ["abc", "", "  ", "1.234,56", "1,000.50", "12 50", "1,2,3",
                                   None, True, [1]])
def test_what_is_not_an_amount_is_refused(typed: object) -> None:
    with pytest.raises(NotAnAmount):
        parse_amount(typed)


@pytest.mark.parametrize("typed", ["1.234", "1,234", "0.001", Decimal("0.125"), 0.1 + 0.2])
def test_more_than_two_decimals_is_refused_not_read_as_thousands(typed: object) -> None:
    with pytest.raises(TooManyDecimals):
        parse_amount(typed)


def test_the_caller_sets_the_largest_amount_and_size_is_judged_first() -> None:
    assert parse_amount("-100", largest=Decimal(100)) == Decimal(-100)
    with pytest.raises(AmountTooLarge):
        parse_amount("100,01", largest=Decimal(100))
    with pytest.raises(AmountTooLarge):  # too large, not "too many decimals"
        parse_amount("1000.001", largest=Decimal(100))
    for beyond in (float("inf"), "-Infinity", "NaN", float("nan"), "1e12"):
        with pytest.raises(AmountTooLarge):
            parse_amount(beyond, largest=Decimal("9999999999.99"))
    with pytest.raises(AmountTooLarge):  # beyond what a Decimal holds, with no limit given
        parse_amount("1e40")


def test_to_cents_is_exact() -> None:
    assert [to_cents(v) for v in ("12,50", "-0.07", 3, "19.99")] == [1250, -7, 300, 1999]
    with pytest.raises(TooManyDecimals):
        to_cents("0.005")
