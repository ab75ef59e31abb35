"""Periods, presets and comparisons, and the buckets a period's time series is cut into."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from db.kpi.periods import Period, bucket_spans, preset


def test_periods_presets_and_comparisons() -> None:
    today = date(2028, 3, 1)
    assert preset("last_30", today) == Period(date(2028, 2, 1), today)
    assert preset("year_to_date", today) == Period(date(2028, 1, 1), today)
    leap = Period(date(2028, 2, 1), date(2028, 2, 29))
    assert leap.days == 29
    assert leap.previous() == Period(date(2028, 1, 3), date(2028, 1, 31))
    assert leap.year_earlier() == Period(date(2027, 2, 1), date(2027, 2, 28))
    with pytest.raises(ValueError):
        Period(today, today - timedelta(days=1))


def test_buckets_cut_by_the_period_or_not_over_yet_are_partial() -> None:
    """A Thursday-to-Tuesday period: the first week and month start late, the last ones are
    under way today; a period of whole weeks that ended before today has none."""
    today = date(2026, 12, 1)  # a Tuesday
    period = Period(date(2026, 9, 3), today)

    def partial(granularity: str, days: Period = period) -> dict[date, tuple]:
        spans = bucket_spans(days, granularity, today=today)
        return {row.bucket.date(): (row.first, row.last) for row in spans.itertuples()
                if row.partial}

    assert partial("week") == {date(2026, 8, 31): (date(2026, 9, 3), date(2026, 9, 6)),
                               date(2026, 11, 30): (date(2026, 11, 30), today)}
    assert partial("month") == {date(2026, 9, 1): (date(2026, 9, 3), date(2026, 9, 30)),
                                date(2026, 12, 1): (today, today)}
    assert partial("day") == {today: (today, today)}  # today is not over
    assert partial("week", Period(date(2026, 11, 2), date(2026, 11, 29))) == {}
    weeks = bucket_spans(period, "week", today=today)
    assert len(weeks) == 14 and weeks["bucket"].is_monotonic_increasing

