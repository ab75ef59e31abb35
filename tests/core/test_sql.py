"""The shared SQL pieces give the same answers on every engine the suite runs."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import DateTime, Engine, String, literal, select

from db.core.sql import AsciiLower, UtcDay, UtcMonth, fold_ascii, years_before


def test_days_months_and_ascii_lower_case_agree_on_each_engine(engine: Engine) -> None:
    late = literal(datetime(2026, 3, 31, 23, 30, tzinfo=UTC), DateTime(timezone=True))
    with engine.connect() as connection:
        day, month, folded = connection.execute(select(
            UtcDay(late), UtcMonth(late), AsciiLower(literal("ÄBC Déf", String())))).one()
    assert (str(day), str(month)) == ("2026-03-31", "2026-03-01")
    assert folded == fold_ascii("ÄBC Déf") == "Äbc déf"  # A-Z only, as SQLite's lower()


def test_years_before_keeps_the_day_or_takes_the_28th_of_february() -> None:
    assert years_before(date(2026, 12, 1), 3) == date(2023, 12, 1)
    assert years_before(date(2024, 2, 29), 1) == date(2023, 2, 28)
