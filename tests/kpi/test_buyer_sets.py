"""How a span of days is read: whole months from the monthly sets, the rest by day."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine

from db.kpi.buyer_sets import WhoOrdered, pieces


@pytest.mark.parametrize(("first", "last", "days", "months"), [
    # Inside one month: days only, even when it reaches the month's last day.
    (date(2026, 3, 2), date(2026, 3, 31), [(date(2026, 3, 2), date(2026, 3, 31))], None),
    (date(2026, 3, 1), date(2026, 3, 30), [(date(2026, 3, 1), date(2026, 3, 30))], None),
    # Exactly a month, February included (2026 is not a leap year, 2028 is).
    (date(2026, 2, 1), date(2026, 2, 28), [], (date(2026, 2, 1), date(2026, 2, 1))),
    (date(2028, 2, 1), date(2028, 2, 28), [(date(2028, 2, 1), date(2028, 2, 28))], None),
    (date(2028, 2, 1), date(2028, 2, 29), [], (date(2028, 2, 1), date(2028, 2, 1))),
    # Partial months at both ends around whole ones, across a year's end.
    (date(2025, 11, 15), date(2026, 2, 10),
     [(date(2025, 11, 15), date(2025, 11, 30)), (date(2026, 2, 1), date(2026, 2, 10))],
     (date(2025, 12, 1), date(2026, 1, 1))),
    (date(2025, 11, 1), date(2026, 10, 31), [], (date(2025, 11, 1), date(2026, 10, 1))),
    # Two partial months and nothing whole between them: one range of days.
    (date(2026, 1, 20), date(2026, 2, 5), [(date(2026, 1, 20), date(2026, 2, 5))], None),
])
def test_pieces_split_a_span_into_partial_days_and_whole_months(
        first: date, last: date, days: list, months: tuple | None) -> None:
    assert pieces(first, last) == (days, months)


def test_a_span_not_named_up_front_is_refused(engine: Engine) -> None:
    with engine.connect() as connection:
        who = WhoOrdered(connection, [(date(2026, 1, 1), date(2026, 1, 31))])
    assert len(who.union("buyers", date(2026, 1, 1), date(2026, 1, 31))) == 0
    with pytest.raises(LookupError):
        who.union("buyers", date(2026, 1, 1), date(2026, 2, 28))
