"""The KPI page's one call: it gathers the figures the functions compute alone, on two
connections side by side, and its downloads are in euros, neutralised and named by what and
when."""

from __future__ import annotations

import csv
import io
import threading
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import Engine
from sqlmodel import SQLModel

from db.core.access import PermissionDenied
from db.core.engine import make_engine
from db.kpi import scope as kpi_scope
from db.kpi.board import csv_download, dashboard, data_version
from db.kpi.customers import customer_report
from db.kpi.engagement import engagement
from db.kpi.filters import Filters
from db.kpi.periods import Period, bucket_spans
from db.kpi.rfm import average_lifetime_value_cents, rfm
from db.kpi.sales import breakdown, sales
from db.kpi.top import top_customers
from db.segments.definition import Condition, Group
from db.segments.service import save_segment
from tests import factories
from tests.factories import MANAGER, MARKETING
from tests.kpi.reference import (
    PERIODS,
    in_days,
    reference_customers,
    reference_sales,
)


def test_a_segment_page_evaluates_the_segment_once_per_half_and_agrees_figure_by_figure(
        engine: Engine, shop: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's two halves (sales; the rest) run side by side, each on its connection,
    and each works the members out once."""
    segment = save_segment(MANAGER, name="Austria or France", description=None,
                           kind="dynamic", definition=Group(children=[Condition(
                               field="country", op="in", value=["AT", "FR"])]),
                           engine=engine)
    filters, period, today = Filters(segment_id=segment.id), PERIODS[1], date(2026, 5, 1)
    evaluated = []
    evaluate = kpi_scope.members_of
    monkeypatch.setattr(kpi_scope, "members_of",
                        lambda *arguments: evaluated.append(threading.get_ident())
                        or evaluate(*arguments))
    board = dashboard(MANAGER, period, "week", filters, today=today, engine=engine)
    assert len(evaluated) == len(set(evaluated)) == 2
    # Each figure as the functions compute it alone (tested above against pandas).
    assert board.sales == sales(MANAGER, period, filters, engine=engine)
    assert board.sales.orders > 0
    assert board.sales_year_earlier == sales(MANAGER, period.year_earlier(), filters,
                                                     engine=engine)
    assert board.engagement == engagement(MANAGER, period, filters, engine=engine)
    alone = customer_report(MANAGER, period, filters, granularity="week",
                                    engine=engine)
    assert (board.customers.counts, board.customers.previous) == (alone.counts, alone.previous)
    pd.testing.assert_frame_equal(board.customers.per_bucket, alone.per_bucket)
    assert board.lifetime_value_cents == average_lifetime_value_cents(
        MANAGER, filters, engine=engine)
    for got, expected in (
            (board.by_category, breakdown(MANAGER, period, "category", filters,
                                                  engine=engine)),
            (board.rfm, rfm(MANAGER, filters, today=today, engine=engine)),
            (board.top_customers, top_customers(MANAGER, period, filters,
                                                        engine=engine))):
        pd.testing.assert_frame_equal(got, expected)
        assert len(got) > 0
    assert len(evaluated) > 6  # alone, each function evaluates the segment again
    with engine.connect() as connection:  # the members' rows went with the page's transaction
        left = ("SELECT count(*) FROM pg_class WHERE left(relname, 11) = 'kpi_segment'"
                if connection.dialect.name == "postgresql"
                else "SELECT count(*) FROM sqlite_temp_master")
        assert connection.exec_driver_sql(left).scalar_one() == 0


@pytest.mark.parametrize("narrowing", [Filters(), Filters(channels=("web", "app"))])
def test_a_segment_pages_sales_and_engagement_match_pandas_day_by_day(engine: Engine, shop: dict,
                                                       narrowing: Filters) -> None:
    """The page's sales with a segment filter against pandas over the members' orders: the
    period's days (a tie of two first orders at one moment among them), the previous period
    (first orders before it count as new there, not here) and the year earlier; and their
    answers and contacts in the period and the one before."""
    segment = save_segment(MANAGER, name="Austria or France", description=None,
                           kind="dynamic", definition=Group(children=[Condition(
                               field="country", op="in", value=["AT", "FR"])]),
                           engine=engine)
    members = {customer_id for customer_id, country in shop["country"].items()
               if country in ("AT", "FR") and customer_id != shop["ids"][3]}
    filters = Filters(channels=narrowing.channels, segment_id=segment.id)
    period = PERIODS[1]
    board = dashboard(MANAGER, period, "day", filters, today=date(2026, 5, 1), engine=engine)
    assert board.sales == reference_sales(shop, period, narrowing, members)
    assert board.sales.new_customers > 0
    assert board.sales_previous == reference_sales(shop, period.previous(), narrowing, members)
    assert board.sales_year_earlier == reference_sales(shop, period.year_earlier(), narrowing,
                                                       members)
    for row in board.trend.itertuples():
        day = row.bucket.date()
        assert (row.revenue_cents, row.orders, row.refunds, row.new_customers) == tuple(
            vars(reference_sales(shop, Period(day, day), narrowing, members)).values())
    for got, days in ((board.engagement, period), (board.engagement_previous, period.previous())):
        answers, contacts = shop["answers"], shop["contacts"]
        scores = answers[in_days(answers, days) & answers["customer_id"].isin(members)]["score"]
        assert (got.promoters, got.passives, got.detractors) == (
            (scores >= 9).sum(), scores.between(7, 8).sum(), (scores <= 6).sum())
        assert got.interactions == contacts[in_days(contacts, days) & contacts[
            "customer_id"].isin(members)]["kind"].value_counts().to_dict()
    assert board.engagement.answers + board.engagement_previous.answers > 0
    orders = shop["orders"]
    chosen = orders[in_days(orders, period) & orders["customer_id"].isin(members)
                    & orders["channel"].isin(narrowing.channels or orders["channel"])]
    assert {row.group: row.revenue_cents for row in board.by_category.itertuples()} == {
        category: sum(int(amount * 100) for amount in rows["amount"])
        for category, rows in chosen.groupby("category")}


def test_an_in_memory_database_shows_its_page_too() -> None:
    """In-memory SQLite is one database per connection, and its pool gives each thread a
    connection of its own: the page's two halves must not each open an empty one."""
    engine = make_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    board = dashboard(MANAGER, PERIODS[1], "week", today=date(2026, 5, 1), engine=engine)
    assert (board.sales.orders, board.engagement.answers) == (0, 0)


def test_only_kpi_roles_read_metrics_and_writes_move_the_version(engine: Engine) -> None:
    with pytest.raises(PermissionDenied):
        sales(MARKETING, PERIODS[0], engine=engine)
    before = data_version(engine=engine)
    factories.customer(engine, "New", "One")
    assert data_version(engine=engine) > before


def test_dashboard_gathers_the_figures_and_moves_the_previous_period(engine: Engine,
                                                                    shop: dict) -> None:
    period = PERIODS[1]
    board = dashboard(MANAGER, period, "day", engine=engine)
    assert board.sales == reference_sales(shop, period, Filters())
    assert board.sales_previous == reference_sales(shop, period.previous(), Filters())
    # The previous period's first day sits on this period's first day.
    first = board.trend.iloc[0]
    previous_first = reference_sales(shop, Period(period.previous().first,
                                                   period.previous().first), Filters())
    assert first["previous_revenue_cents"] == previous_first.revenue_cents
    assert len(board.trend) == period.days
    assert not board.has_year_earlier  # the shop's orders start in 2026
    assert board.customers.counts == reference_customers(shop, period, Filters())
    orders = shop["orders"][in_days(shop["orders"], period)
                            & (shop["orders"]["customer_id"] != shop["ids"][3])]
    paying = (orders.groupby("customer_id")["amount"].sum() > 0).sum()
    assert len(board.top_customers) == min(20, paying) > 0


def test_the_dashboard_marks_partial_buckets_and_leaves_unfinished_cohort_months_empty(
        engine: Engine, shop: dict) -> None:
    period = Period(date(2026, 1, 8), date(2026, 4, 1))  # a Thursday to a Wednesday
    today = period.last
    board = dashboard(MANAGER, period, "week", today=today, engine=engine)
    spans = bucket_spans(period, "week", today=today)
    expected = dict(zip(spans["bucket"], spans["partial"], strict=True))
    for frame in (board.trend, board.customers.per_bucket, board.nps):
        assert dict(zip(frame["bucket"], frame["partial"], strict=True)) == {
            bucket: expected[bucket] for bucket in frame["bucket"]}
    assert board.trend["partial"].tolist()[0] and board.trend["partial"].tolist()[-1]
    cohorts = board.customers.cohorts
    april = [cohort.month + since == 4 for cohort, since in
             zip(pd.to_datetime(cohorts["cohort"]), cohorts["months_since"], strict=True)]
    assert cohorts.loc[april, "share"].isna().all() and any(april)
    assert cohorts.loc[[not cell for cell in april], "share"].notna().all()
    # The same period seen after its months are over leaves none empty.
    later = customer_report(MANAGER, period, today=date(2026, 5, 1), engine=engine)
    assert later.cohorts["share"].notna().all()


def test_a_kpi_download_is_in_euros_neutralised_and_named_by_what_and_when() -> None:
    top = pd.DataFrame({"customer_id": [7, 8], "first_name": ['=HYPERLINK("http://x.example")',
                                                             "Ana"],
                        "last_name": ["Evil", "Ruiz"], "revenue_cents": [282_606_412, -450],
                        "previous_revenue_cents": [1000.0, 5.0]})
    download = csv_download(top, "top-customers",
                                    Period(date(2026, 9, 2), date(2026, 11, 30)))
    assert download.file_name == "top-customers_2026-09-02_2026-11-30.csv"
    text = download.data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["customer_id", "first_name", "last_name", "revenue_eur",
                             "previous_revenue_eur"]
    assert [row["revenue_eur"] for row in rows] == ["2826064.12", "-4.50"]
    assert [row["previous_revenue_eur"] for row in rows] == ["10.00", "0.05"]
    assert rows[0]["first_name"] == '\'=HYPERLINK("http://x.example")'
    one_day = csv_download(top, "rfm-grid", Period(date(2026, 12, 1), date(2026, 12, 1)))
    assert one_day.file_name == "rfm-grid_2026-12-01.csv"

