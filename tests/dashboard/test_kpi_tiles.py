"""The KPI tiles: values formatted, changes computed the way their kind needs."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd

from dashboard.kpi_tiles import compact_count, compact_money, tiles
from db.kpi.board import Dashboard
from db.kpi.customers import CustomerReport, Customers
from db.kpi.engagement import Engagement
from db.kpi.periods import Period
from db.kpi.sales import Sales

EMPTY = pd.DataFrame()


def _board(*, first_day: date | None) -> Dashboard:
    counts = Customers(active=200, returning=150, repeaters=50, previous_active=100,
                       retained=80)
    report = CustomerReport(counts=counts, previous=Customers(active=100, returning=50,
                                                              repeaters=10),
                            year_earlier=Customers(), by_country=EMPTY, per_bucket=EMPTY,
                            cohorts=EMPTY)
    return Dashboard(
        period=Period(date(2026, 10, 1), date(2026, 10, 31)), first_day=first_day,
        sales=Sales(revenue_cents=150_000, orders=10), sales_previous=Sales(100_000, 0),
        sales_year_earlier=Sales(300_000, 20), trend=EMPTY, customers=report,
        engagement=Engagement(promoters=6, passives=2, detractors=2),
        engagement_previous=Engagement(promoters=1, detractors=1),
        engagement_year_earlier=Engagement(), lifetime_value_cents=12_345.6,
        by_category=EMPTY, by_channel=EMPTY, nps=EMPTY, rfm=EMPTY, top_customers=EMPTY)


def test_values_and_changes() -> None:
    shown = {tile.label: tile for tile in tiles(_board(first_day=date(2020, 1, 1)))}
    assert (shown["Revenue"].value, shown["Revenue"].delta) == ("€1,500.00", "+50.0%")
    assert shown["Revenue"].year == "A year earlier: -50.0%"
    assert shown["Orders"].delta == "new"  # from none
    assert shown["Average order value"].delta is None  # no orders before: no average
    assert (shown["Churn rate"].value, shown["Churn rate"].lower_is_better) == ("20.0%", True)
    assert shown["Returning share"].delta == "+25.0 pp"  # 75 % against 50 %
    assert (shown["NPS"].value, shown["NPS"].delta) == ("+40", "+40.0 points")
    assert shown["NPS"].year == "A year earlier: nothing to compare"  # no answers then
    assert shown["Average lifetime value"].value == "€123.46"


def test_no_year_earlier_before_the_data() -> None:
    shown = tiles(_board(first_day=date(2026, 1, 1)))
    assert {tile.year for tile in shown[:-1]} == {"No data a year earlier"}


def test_large_figures_are_compact_with_the_whole_figure_in_the_help() -> None:
    """A tile is about 160 px wide at 1,280 px: money from €10,000 and counts from ten
    million are shortened to three significant digits; the help gives the exact figure."""
    assert [compact_money(cents) for cents in (999_999, 1_000_000, 82_940_315, 282_606_412,
                                               -1_234_567_89, 99_999_999, None)] == [
        "€9,999.99", "€10.0k", "€829k", "€2.83M", "-€1.23M", "€1.00M", "—"]
    assert [compact_count(value) for value in (9_999_999, 12_345_678, 999_999_999)] == [
        "9,999,999", "12.3M", "1.00B"]
    board = replace(_board(first_day=None), sales=Sales(revenue_cents=282_606_412, orders=10))
    revenue = next(tile for tile in tiles(board) if tile.label == "Revenue")
    assert revenue.value == "€2.83M"
    assert "€2,826,064.12" in revenue.help and "Net of refunds" in revenue.help
    small = next(tile for tile in tiles(_board(first_day=None)) if tile.label == "Revenue")
    assert "Exactly" not in small.help  # nothing was shortened
