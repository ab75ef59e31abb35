"""An order log from 1997–98 on a 2026 calendar: the KPI services find its days, end the
presets and score the RFM grid at its newest order, count new customers and cohorts by the
first order (not by when the customer was put on file), and the derived tables the write
hook keeps equal a rebuild. Every figure is checked against pandas (:mod:`tests.kpi.old_shop`
keeps the rows)."""

from __future__ import annotations

from datetime import UTC, date, timedelta

import pandas as pd
import pytest
from sqlalchemy import Engine

from db.core.access import PermissionDenied
from db.derived import kpi_tables, search_index, summary
from db.derived.__main__ import main as derived_command
from db.kpi.board import dashboard, order_days
from db.kpi.periods import Period, as_of, preset
from tests import factories
from tests.factories import MANAGER, MARKETING
from tests.kpi import old_shop
from tests.kpi.old_shop import FIRST_DAY, LAST_DAY

TODAY = date(2026, 12, 1)
YEAR_1997 = Period(date(1997, 1, 1), date(1997, 12, 31))


@pytest.fixture
def old_orders(engine: Engine) -> pd.DataFrame:
    frame = old_shop.build(engine)
    frame["day"] = frame["at"].map(lambda moment: moment.astimezone(UTC).date())
    return frame


def test_order_days_are_the_first_and_last_day_with_an_order(engine: Engine) -> None:
    assert order_days(MANAGER, engine=engine) is None
    old_shop.build(engine, customers=3)
    assert order_days(MANAGER, engine=engine) == Period(FIRST_DAY, LAST_DAY)
    with pytest.raises(PermissionDenied):
        order_days(MARKETING, engine=engine)


def test_presets_end_at_the_newest_order_only_when_it_is_old() -> None:
    assert as_of(TODAY, LAST_DAY) == LAST_DAY
    assert preset("last_30", as_of(TODAY, LAST_DAY)) == Period(date(1998, 6, 1), LAST_DAY)
    assert preset("year_to_date", as_of(TODAY, LAST_DAY)) == Period(date(1998, 1, 1), LAST_DAY)
    # Current data, no data, or an order dated after today: the periods end today.
    for newest in (TODAY, TODAY - timedelta(days=29), None, TODAY + timedelta(days=3)):
        assert as_of(TODAY, newest) == TODAY, newest
    assert as_of(TODAY, TODAY - timedelta(days=30)) == TODAY - timedelta(days=30)


def _first_orders(orders: pd.DataFrame) -> pd.Series:
    return orders.sort_values("at").groupby("customer_id")["day"].first()


def test_1997_figures_match_pandas(engine: Engine, old_orders: pd.DataFrame) -> None:
    board = dashboard(MANAGER, YEAR_1997, "month", today=TODAY, as_of=LAST_DAY, engine=engine)
    year = old_orders[(old_orders["day"] >= YEAR_1997.first)
                      & (old_orders["day"] <= YEAR_1997.last)]
    assert board.sales.revenue_cents == int((year["amount"] * 100).sum())
    assert board.sales.orders == int((year["amount"] >= 0).sum())
    assert board.sales.refunds == int((year["amount"] < 0).sum())
    firsts = _first_orders(old_orders)
    newcomers = firsts[(firsts >= YEAR_1997.first) & (firsts <= YEAR_1997.last)]
    assert board.sales.new_customers == len(newcomers) > 0
    assert board.customers.counts.active == year[year["amount"] >= 0]["customer_id"].nunique()
    assert board.trend["revenue_cents"].sum() == board.sales.revenue_cents
    # Cohorts by the month of the first order; 1997's months are all over in 2026.
    cohorts = board.customers.cohorts
    sizes = cohorts.drop_duplicates("cohort").set_index("cohort")["size"].to_dict()
    expected = newcomers.map(lambda day: day.replace(day=1)).value_counts().to_dict()
    assert sizes == expected
    assert cohorts["share"].notna().all()
    # Each cohort's share in each later month: its customers with an order of zero or
    # more in that month (a first "order" that was a refund counts to the cohort only).
    month = old_orders["day"].map(lambda day: day.replace(day=1))
    bought = old_orders[old_orders["amount"] >= 0].assign(month=month)
    for row in cohorts.itertuples():
        members = set(newcomers[newcomers.map(lambda day: day.replace(day=1)) == row.cohort]
                      .index)
        later = (pd.Timestamp(row.cohort) + pd.DateOffset(months=row.months_since)).date()
        kept = members & set(bought[bought["month"] == later]["customer_id"])
        assert (row.customers, row.share) == (len(kept), len(kept) / len(members)), row


def test_the_rfm_grid_is_scored_at_the_newest_order(engine: Engine,
                                                    old_orders: pd.DataFrame) -> None:
    last = old_orders.groupby("customer_id")["day"].max()
    recent = int((last >= LAST_DAY - timedelta(days=30)).sum())
    assert recent > 0
    board = dashboard(MANAGER, preset("last_30", LAST_DAY), "week", today=TODAY,
                      as_of=LAST_DAY, engine=engine)
    assert int(board.rfm.loc[board.rfm["recency"] == 5, "customers"].sum()) == recent
    assert int(board.rfm["customers"].sum()) == old_orders["customer_id"].nunique()
    scored_today = dashboard(MANAGER, preset("last_30", LAST_DAY), "week", today=TODAY,
                             engine=engine)
    assert set(scored_today.rfm["recency"]) == {1}  # everyone's last order is decades old


def test_new_customers_count_from_the_first_order_not_from_created_at(engine: Engine) -> None:
    """A customer on file since 1997 whose first order is in 1998 is new in 1998; one put on
    file today whose orders are from 1997 is new in 1997."""
    on_file_1997 = factories.customer(engine, "Filed", "Early").id
    filed_today = factories.customer(engine, "Filed", "Late").id
    assert on_file_1997 is not None and filed_today is not None
    at = pd.Timestamp("1998-03-04 12:00", tz="UTC").to_pydatetime()
    factories.order(engine, on_file_1997, "10.00", ordered_at=at)
    factories.order(engine, filed_today, "10.00", ordered_at=at - timedelta(days=400))
    old_shop.put_on_file_since(engine, [on_file_1997])
    for period, expected in ((YEAR_1997, 1), (Period(date(1998, 1, 1), date(1998, 12, 31)), 1),
                             (preset("last_365", TODAY), 0)):
        board = dashboard(MANAGER, period, "month", today=TODAY, engine=engine)
        assert board.sales.new_customers == expected, period
        assert board.customers.counts.active - board.customers.counts.returning == expected


def test_the_write_hook_and_a_rebuild_agree_on_old_orders(
        engine: Engine, database_url: str, old_orders: pd.DataFrame,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with engine.connect() as connection:
        assert summary.differences(connection) == 0
        assert not any(kpi_tables.differences(connection).values())
        assert search_index.differences(connection) == 0
    before = dashboard(MANAGER, YEAR_1997, "month", today=TODAY, as_of=LAST_DAY, engine=engine)
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert derived_command(["rebuild"]) == 0
    assert derived_command(["check"]) == 0
    capsys.readouterr()
    after = dashboard(MANAGER, YEAR_1997, "month", today=TODAY, as_of=LAST_DAY, engine=engine)
    assert (after.sales, after.customers.counts) == (before.sales, before.customers.counts)
    pd.testing.assert_frame_equal(after.trend, before.trend)
    pd.testing.assert_frame_equal(after.customers.cohorts, before.customers.cohorts)
    pd.testing.assert_frame_equal(after.rfm, before.rfm)
