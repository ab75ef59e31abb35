"""Each KPI against an independent pandas computation on the same rows, on both engines.

The data mixes random orders with the edges the definitions name: an order at 23:59:59 on
a period's last day and at midnight after it, refunds, zero amounts, two first orders at the
same moment, customers without orders and a deleted customer whose sales still count.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from db.core.access import Actor, PermissionDenied
from db.customers.orders import record_order
from db.customers.service import create_customer, soft_delete_customer
from db.derived import summary
from db.kpi import metrics
from db.kpi import scope as kpi_scope
from db.kpi import tables as kpi_tables
from db.kpi import top as top_search
from db.kpi.metrics import Filters, Period
from db.models import INTERACTION_KINDS, ORDER_CHANNELS, Feedback, Interaction, Order
from db.segments.definition import Condition, Group
from db.segments.service import save_segment

MANAGER = Actor("max", "manager")
MARKETING = Actor("mia", "marketing")
COUNTRIES = ("DE", "AT", "FR")
CATEGORIES = ("books", "wine", "garden")
DAY0 = date(2026, 1, 1)


def _at(day: int, seconds: int = 43_200) -> datetime:
    return datetime.combine(DAY0, datetime.min.time(), tzinfo=UTC) + timedelta(
        days=day, seconds=seconds)


@pytest.fixture
def shop(engine: Engine) -> dict:
    """Customers, orders, answers and contacts; returns the rows as DataFrames too."""
    rng = random.Random(23)
    ids = [create_customer(MANAGER, {"first_name": f"K{index}", "last_name": "Test",
                                     "country": COUNTRIES[index % 3]},
                           engine=engine, confirm=True).id for index in range(14)]
    orders, answers, contacts = [], [], []
    for customer_id in ids[:11]:  # the last three never order
        for _ in range(rng.randint(1, 12)):
            orders.append((customer_id, _at(rng.randint(0, 120), rng.randint(0, 86_399)),
                           Decimal(rng.choice(["9.99", "0.00", "-4.50", "150.00", "0.01"])),
                           rng.choice(CATEGORIES), rng.choice(ORDER_CHANNELS)))
        answers += [(customer_id, _at(rng.randint(0, 120)), rng.randint(0, 10))
                    for _ in range(rng.randint(0, 3))]
        contacts += [(customer_id, _at(rng.randint(0, 120)), rng.choice(INTERACTION_KINDS))
                     for _ in range(rng.randint(0, 4))]
    # The edges of the period 31-60 (days counted from DAY0).
    orders += [(ids[0], _at(60, 86_399), Decimal("10.00"), "books", "web"),
               (ids[1], _at(61, 0), Decimal("20.00"), "books", "web"),
               (ids[2], _at(30, 86_399), Decimal("-3.00"), "wine", "app"),
               (ids[11], _at(45), Decimal("5.00"), "wine", "web"),  # two first orders,
               (ids[11], _at(45), Decimal("7.00"), "books", "app")]  # one moment
    with Session(engine) as session:
        for customer_id, at, amount, category, channel in orders:
            session.add(Order(customer_id=customer_id, ordered_at=at, amount=amount,
                              category=category, channel=channel, product="p"))
        for customer_id, at, score in answers:
            session.add(Feedback(customer_id=customer_id, at=at, nps_score=score))
        for customer_id, at, kind in contacts:
            session.add(Interaction(customer_id=customer_id, at=at, kind=kind,
                                    direction="outbound", subject="s"))
        session.flush()
        summary.rebuild(session)  # first: the recency table reads it
        kpi_tables.rebuild(session)
        session.commit()
        order_ids = session.execute(select(Order.id).order_by(Order.id)).scalars().all()
    soft_delete_customer(Actor("ada", "admin"), ids[3], engine=engine)
    order_frame = pd.DataFrame(orders, columns=["customer_id", "at", "amount", "category",
                                                "channel"])
    order_frame["id"] = order_ids
    return {
        "ids": ids,
        "orders": order_frame,
        "country": {customer_id: COUNTRIES[index % 3] for index, customer_id in enumerate(ids)},
        "answers": pd.DataFrame(answers, columns=["customer_id", "at", "score"]),
        "contacts": pd.DataFrame(contacts, columns=["customer_id", "at", "kind"]),
    }


def _days(frame: pd.DataFrame, period: Period) -> pd.Series:
    day = frame["at"].map(lambda moment: moment.astimezone(UTC).date())
    return (day >= period.first) & (day <= period.last)


def _who(frame: pd.DataFrame, shop: dict, filters: Filters,
         members: set[int] | None = None) -> pd.Series:
    keep = pd.Series(True, index=frame.index)
    if filters.countries:
        keep &= frame["customer_id"].map(shop["country"]).isin(filters.countries)
    if members is not None:
        keep &= frame["customer_id"].isin(members)
    return keep


def _reference_sales(shop: dict, period: Period, filters: Filters,
                     members: set[int] | None = None) -> metrics.Sales:
    orders = shop["orders"].sort_values(["at", "id"])
    first = ~orders.duplicated("customer_id")
    keep = _days(orders, period) & _who(orders, shop, filters, members)
    if filters.channels:
        keep &= orders["channel"].isin(filters.channels)
    if filters.categories:
        keep &= orders["category"].isin(filters.categories)
    chosen = orders[keep]
    cents = sum(int(amount * 100) for amount in chosen["amount"])
    return metrics.Sales(revenue_cents=cents, orders=int((chosen["amount"] >= 0).sum()),
                         refunds=int((chosen["amount"] < 0).sum()),
                         new_customers=int(first[keep].sum()))


PERIODS = [Period(date(2026, 1, 31), date(2026, 3, 1)),  # days 30-59: the edges above
           Period(date(2026, 2, 1), date(2026, 3, 2)),  # days 31-60
           Period(date(2026, 3, 2), date(2026, 3, 2)),  # day 60 alone
           Period(date(2025, 6, 1), date(2025, 6, 30))]  # before any order
FILTERS = [Filters(), Filters(countries=("DE",)), Filters(channels=("web", "app")),
           Filters(categories=("books",)), Filters(countries=("AT", "FR"), channels=("web",),
                                                   categories=("wine", "garden"))]


@pytest.mark.parametrize("period", PERIODS, ids=str)
def test_sales_match_the_reference(engine: Engine, shop: dict, period: Period) -> None:
    for filters in FILTERS:
        got = metrics.sales(MANAGER, period, filters, engine=engine)
        assert got == _reference_sales(shop, period, filters), filters


def test_the_last_second_of_the_last_day_counts(engine: Engine, shop: dict) -> None:
    edge = Filters(countries=("DE",), categories=("books",), channels=("web",))
    upto = metrics.sales(MANAGER, Period(date(2026, 3, 2), date(2026, 3, 2)), edge,
                         engine=engine)
    after = metrics.sales(MANAGER, Period(date(2026, 3, 3), date(2026, 3, 3)), edge,
                          engine=engine)
    by_hand = shop["orders"][(shop["orders"]["customer_id"] == shop["ids"][0])
                             & (shop["orders"]["category"] == "books")
                             & (shop["orders"]["channel"] == "web")]
    on_day = [a for a, at in zip(by_hand["amount"], by_hand["at"], strict=True)
              if at.date() == date(2026, 3, 2)]
    assert upto.orders >= 1 and upto.revenue_cents >= 1000
    assert upto.revenue_cents == sum(int(a * 100) for a in on_day) + _others(shop, edge)
    assert after == _reference_sales(shop, Period(date(2026, 3, 3), date(2026, 3, 3)), edge)


def _others(shop: dict, filters: Filters) -> int:
    """Cents of day 60's matching orders from customers other than the first."""
    orders = shop["orders"]
    keep = (_days(orders, Period(date(2026, 3, 2), date(2026, 3, 2)))
            & _who(orders, shop, filters) & orders["channel"].isin(filters.channels)
            & orders["category"].isin(filters.categories)
            & (orders["customer_id"] != shop["ids"][0]))
    return sum(int(amount * 100) for amount in orders[keep]["amount"])


def test_a_tie_on_the_first_moment_makes_one_new_customer(engine: Engine, shop: dict) -> None:
    day = Period(date(2026, 2, 15), date(2026, 2, 15))
    tied = Filters(countries=(shop["country"][shop["ids"][11]],))
    got = metrics.sales(MANAGER, day, tied, engine=engine)
    assert got.new_customers == _reference_sales(shop, day, tied).new_customers >= 1
    # The lower id (the wine order) was first: only the wine filter sees a new customer.
    assert metrics.sales(MANAGER, day, Filters(countries=tied.countries,
                                               categories=("books",)),
                         engine=engine).new_customers == _reference_sales(
        shop, day, Filters(countries=tied.countries, categories=("books",))).new_customers


def test_a_segment_filter_narrows_to_its_members(engine: Engine, shop: dict) -> None:
    austrians = Group(children=[Condition(field="country", op="eq", value="AT")])
    segment = save_segment(MANAGER, name="Austria", description=None, kind="dynamic",
                           definition=austrians, engine=engine)
    members = {customer_id for customer_id, country in shop["country"].items()
               if country == "AT" and customer_id != shop["ids"][3]}
    for period in PERIODS[:2]:
        got = metrics.sales(MANAGER, period, Filters(segment_id=segment.id), engine=engine)
        assert got == _reference_sales(shop, period, Filters(), members)


def test_a_segment_page_evaluates_the_segment_once_and_agrees_figure_by_figure(
        engine: Engine, shop: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    segment = save_segment(MANAGER, name="Austria or France", description=None,
                           kind="dynamic", definition=Group(children=[Condition(
                               field="country", op="in", value=["AT", "FR"])]),
                           engine=engine)
    filters, period, today = Filters(segment_id=segment.id), PERIODS[1], date(2026, 5, 1)
    evaluated = []
    evaluate = kpi_scope.members_of
    monkeypatch.setattr(kpi_scope, "members_of",
                        lambda *arguments: evaluated.append(1) or evaluate(*arguments))
    board = metrics.dashboard(MANAGER, period, "week", filters, today=today, engine=engine)
    assert len(evaluated) == 1
    # Each figure as the functions compute it alone (tested above against pandas).
    assert board.sales == metrics.sales(MANAGER, period, filters, engine=engine)
    assert board.sales.orders > 0
    assert board.sales_year_earlier == metrics.sales(MANAGER, period.year_earlier(), filters,
                                                     engine=engine)
    assert board.engagement == metrics.engagement(MANAGER, period, filters, engine=engine)
    alone = metrics.customer_report(MANAGER, period, filters, granularity="week",
                                    engine=engine)
    assert (board.customers.counts, board.customers.previous) == (alone.counts, alone.previous)
    pd.testing.assert_frame_equal(board.customers.per_bucket, alone.per_bucket)
    assert board.lifetime_value_cents == metrics.average_lifetime_value_cents(
        MANAGER, filters, engine=engine)
    for got, expected in (
            (board.by_category, metrics.breakdown(MANAGER, period, "category", filters,
                                                  engine=engine)),
            (board.rfm, metrics.rfm(MANAGER, filters, today=today, engine=engine)),
            (board.top_customers, metrics.top_customers(MANAGER, period, filters,
                                                        engine=engine))):
        pd.testing.assert_frame_equal(got, expected)
        assert len(got) > 0
    assert len(evaluated) > 5  # alone, each function evaluates the segment again
    with engine.connect() as connection:  # the members' rows went with the page's transaction
        left = ("SELECT count(*) FROM pg_class WHERE left(relname, 11) = 'kpi_segment'"
                if connection.dialect.name == "postgresql"
                else "SELECT count(*) FROM sqlite_temp_master")
        assert connection.exec_driver_sql(left).scalar_one() == 0


def test_engagement_and_lifetime_value_match_the_reference(engine: Engine, shop: dict) -> None:
    for period in PERIODS:
        for filters in FILTERS[:2]:
            got = metrics.engagement(MANAGER, period, filters, engine=engine)
            answers = shop["answers"]
            chosen = answers[_days(answers, period) & _who(answers, shop, filters)]["score"]
            assert (got.promoters, got.passives, got.detractors) == (
                int((chosen >= 9).sum()), int(chosen.between(7, 8).sum()),
                int((chosen <= 6).sum()))
            if len(chosen):
                assert got.nps == pytest.approx(
                    100 * ((chosen >= 9).mean() - (chosen <= 6).mean()))
            else:
                assert got.nps is None
            contacts = shop["contacts"]
            kept = contacts[_days(contacts, period) & _who(contacts, shop, filters)]
            assert got.interactions == kept["kind"].value_counts().to_dict()
    orders = shop["orders"][shop["orders"]["customer_id"] != shop["ids"][3]]  # deleted
    spend = orders.groupby("customer_id")["amount"].sum()
    assert metrics.average_lifetime_value_cents(MANAGER, engine=engine) == pytest.approx(
        float(spend.mean() * 100))
    german = spend[spend.index.map(shop["country"]) == "DE"]
    assert metrics.average_lifetime_value_cents(
        MANAGER, Filters(countries=("DE",)), engine=engine) == pytest.approx(
        float(german.mean() * 100))


def test_periods_presets_and_comparisons() -> None:
    today = date(2028, 3, 1)
    assert metrics.preset("last_30", today) == Period(date(2028, 2, 1), today)
    assert metrics.preset("year_to_date", today) == Period(date(2028, 1, 1), today)
    leap = Period(date(2028, 2, 1), date(2028, 2, 29))
    assert leap.days == 29
    assert leap.previous() == Period(date(2028, 1, 3), date(2028, 1, 31))
    assert leap.year_earlier() == Period(date(2027, 2, 1), date(2027, 2, 28))
    with pytest.raises(ValueError):
        Period(today, today - timedelta(days=1))


def test_only_kpi_roles_read_metrics_and_writes_move_the_version(engine: Engine) -> None:
    with pytest.raises(PermissionDenied):
        metrics.sales(MARKETING, PERIODS[0], engine=engine)
    before = metrics.data_version(engine=engine)
    create_customer(MANAGER, {"first_name": "New", "last_name": "One", "country": "DE"},
                    engine=engine, confirm=True)
    assert metrics.data_version(engine=engine) > before


def test_daily_series_matches_the_reference_and_buckets_keep_the_sums(engine: Engine,
                                                                      shop: dict) -> None:
    period = PERIODS[1]
    filters = Filters(channels=("web",))
    days = metrics.daily(MANAGER, period, filters, engine=engine)
    assert len(days) == period.days and days["day"].is_monotonic_increasing
    for row in days.itertuples():
        one_day = Period(row.day, row.day)
        assert metrics.Sales(row.revenue_cents, row.orders, row.refunds,
                             row.new_customers) == _reference_sales(shop, one_day, filters)
    for granularity in metrics.GRANULARITIES:
        buckets = metrics.bucketed(days, granularity)
        assert buckets["revenue_cents"].sum() == days["revenue_cents"].sum()
        if granularity == "week":
            assert set(buckets["bucket"].dt.day_of_week) == {0}
        if granularity == "month":
            assert list(buckets["bucket"].dt.day) == [1] * len(buckets) and len(buckets) == 2
    empty = metrics.daily(MANAGER, PERIODS[3], engine=engine)
    assert len(empty) == 30 and not empty[list(metrics.SALES_MEASURES)].any().any()


def _reference_customers(shop: dict, period: Period, filters: Filters,
                         members: set[int] | None = None) -> metrics.Customers:
    orders = shop["orders"]
    first_day = orders.groupby("customer_id")["at"].min().map(
        lambda moment: moment.astimezone(UTC).date())
    bought = orders[(orders["amount"] >= 0) & _who(orders, shop, filters, members)]

    def counted(days: Period) -> pd.Series:
        return bought[_days(bought, days)]["customer_id"].value_counts()

    now, before = counted(period), counted(period.previous())
    returning = sum(1 for customer in now.index if first_day[customer] < period.first)
    return metrics.Customers(active=len(now), returning=returning,
                             repeaters=int((now >= 2).sum()), previous_active=len(before),
                             retained=len(set(now.index) & set(before.index)))


def _counts(engine: Engine, period: Period, filters: Filters = FILTERS[0]) -> metrics.Customers:
    return metrics.customer_report(MANAGER, period, filters, engine=engine).counts


def test_customer_counts_match_the_reference(engine: Engine, shop: dict) -> None:
    for period in [*PERIODS, Period(date(2026, 1, 1), date(2026, 5, 1))]:
        for filters in FILTERS[:2]:
            report = metrics.customer_report(MANAGER, period, filters, engine=engine)
            assert report.counts == _reference_customers(shop, period, filters), (period,
                                                                                   filters)
            assert report.year_earlier == _reference_customers(
                shop, period.year_earlier(), filters)
    assert _counts(engine, PERIODS[1]).active > 5
    # Channel and category filters leave the customer counts alone (see db.kpi.metrics).
    assert _counts(engine, PERIODS[1], Filters(channels=("web",))) == _counts(engine,
                                                                              PERIODS[1])


def test_customer_counts_follow_a_segment_and_rates_add_up(engine: Engine, shop: dict) -> None:
    austrians = Group(children=[Condition(field="country", op="eq", value="AT")])
    segment = save_segment(MANAGER, name="Austria", description=None, kind="dynamic",
                           definition=austrians, engine=engine)
    members = {customer_id for customer_id, country in shop["country"].items()
               if country == "AT" and customer_id != shop["ids"][3]}
    got = _counts(engine, PERIODS[1], Filters(segment_id=segment.id))
    assert got == _reference_customers(shop, PERIODS[1], Filters(), members)
    counts = _counts(engine, PERIODS[1])
    assert counts.churn_rate + counts.retention_rate == pytest.approx(1.0)
    assert _counts(engine, PERIODS[3]).returning_share is None


def test_cohorts_match_the_reference(engine: Engine, shop: dict) -> None:
    period = Period(date(2026, 1, 10), date(2026, 4, 30))
    got = metrics.customer_report(MANAGER, period, engine=engine).cohorts
    orders = shop["orders"].assign(month=shop["orders"]["at"].map(
        lambda moment: moment.astimezone(UTC).date().replace(day=1)))
    cohort_of = orders.groupby("customer_id")["month"].min()
    bought = orders[orders["amount"] >= 0]
    expected = []
    months = [date(2026, month, 1) for month in range(1, 5)]
    for index, month in enumerate(months):
        cohort = set(cohort_of[cohort_of == month].index)
        if not cohort:
            continue
        for since, later in enumerate(months[index:]):
            kept = len(cohort & set(bought[bought["month"] == later]["customer_id"]))
            expected.append((month, since, len(cohort), kept))
    assert [tuple(row) for row in got[["cohort", "months_since", "size", "customers"]]
            .itertuples(index=False)] == expected
    assert got.loc[got["months_since"] == 0, "share"].le(1).all() and len(expected) >= 4


def test_breakdowns_and_countries_match_the_reference(engine: Engine, shop: dict) -> None:
    period, filters = PERIODS[1], Filters(channels=("web", "app"))
    orders = shop["orders"]
    chosen = orders[_days(orders, period) & orders["channel"].isin(filters.channels)]
    for by in metrics.BREAKDOWNS:
        got = metrics.breakdown(MANAGER, period, by, filters, engine=engine)
        key = chosen["customer_id"].map(shop["country"]) if by == "country" else chosen[by]
        cents = chosen["amount"].map(lambda amount: int(amount * 100)).groupby(key).sum()
        assert dict(zip(got["group"], got["revenue_cents"], strict=True)) == cents.to_dict()
        assert list(got["revenue_cents"]) == sorted(got["revenue_cents"], reverse=True)
    bought = orders[(orders["amount"] >= 0) & _days(orders, period)]
    expected = bought.groupby(bought["customer_id"].map(shop["country"]))[
        "customer_id"].nunique().to_dict()
    got = metrics.customer_report(MANAGER, period, engine=engine).by_country
    assert dict(zip(got["country"], got["customers"], strict=True)) == expected
    assert metrics.customer_report(MANAGER, PERIODS[3], engine=engine).by_country.empty


def test_nps_per_bucket_matches_the_reference(engine: Engine, shop: dict) -> None:
    period = Period(date(2026, 1, 1), date(2026, 4, 30))
    days = metrics.nps_daily(MANAGER, period, engine=engine)
    months = metrics.bucketed(days, "month")
    answers = shop["answers"][_days(shop["answers"], period)]
    month = answers["at"].map(lambda moment: moment.date().replace(day=1))
    for row, nps in zip(months.itertuples(), metrics.nps_of(months), strict=True):
        scores = answers[month == row.bucket.date()]["score"]
        assert (row.promoters, row.passives, row.detractors) == (
            (scores >= 9).sum(), scores.between(7, 8).sum(), (scores <= 6).sum())
        assert nps == pytest.approx(100 * ((scores >= 9).mean() - (scores <= 6).mean()))
    assert months["promoters"].sum() + months["passives"].sum() + months[
        "detractors"].sum() == len(answers) > 0


def _score(value: int, limits: tuple[int, ...], *, at_most: bool) -> int:
    """5 for the first limit met, then 4, 3, 2; 1 for none (written apart from db.kpi.metrics)."""
    for index, limit in enumerate(limits):
        if (value <= limit) if at_most else (value >= limit):
            return 5 - index
    return 1


@pytest.mark.parametrize("days_after", [30, 31, 365, 366])
def test_rfm_grid_matches_the_reference(engine: Engine, shop: dict, days_after: int) -> None:
    orders = shop["orders"][shop["orders"]["customer_id"] != shop["ids"][3]]  # deleted
    # Today is a band's edge for the customer who ordered last.
    today = orders["at"].max().date() + timedelta(days=days_after)
    got = metrics.rfm(MANAGER, today=today, engine=engine)
    per_customer = orders.groupby("customer_id").agg(
        last=("at", "max"), orders=("at", "size"), spend=("amount", "sum"))
    per_customer["recency"] = [_score((today - last.date()).days, (30, 90, 180, 365),
                                      at_most=True) for last in per_customer["last"]]
    per_customer["frequency"] = [_score(count, (10, 5, 3, 2), at_most=False)
                                 for count in per_customer["orders"]]
    expected = per_customer.groupby(["recency", "frequency"]).agg(
        customers=("orders", "size"), spend=("spend", "sum"))
    assert {(row.recency, row.frequency): (row.customers, row.spend_cents)
            for row in got.itertuples()} == {
        key: (row.customers, int(row.spend * 100)) for key, row in expected.iterrows()}
    assert got["customers"].sum() == len(per_customer)
    assert metrics.RFM_GROUPS[(5, 5)] == "Champions" and metrics.RFM_GROUPS[(1, 1)] == "Lost"
    assert set(got["group"]) <= set(metrics.RFM_GROUPS.values())


@pytest.mark.parametrize("bounds", ["spend per month", "spend to date"])
def test_top_customers_match_the_reference(engine: Engine, shop: dict, bounds: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # Pages of one or two customers: the search stops on its threshold, not on running out.
    monkeypatch.setattr(top_search, "FIRST_PAGE", 1)
    monkeypatch.setattr(top_search, "LAST_PAGE", 2)
    if bounds == "spend to date":  # what long periods use
        monkeypatch.setattr(metrics, "MONTH_LISTS", 0)
    orders = shop["orders"][shop["orders"]["customer_id"] != shop["ids"][3]]  # deleted
    for period in PERIODS[:3]:
        for filters in FILTERS:
            chosen = orders[_days(orders, period) & _who(orders, shop, filters)]
            if filters.channels:
                chosen = chosen[chosen["channel"].isin(filters.channels)]
            if filters.categories:
                chosen = chosen[chosen["category"].isin(filters.categories)]
            cents = chosen["amount"].map(lambda amount: int(amount * 100)).groupby(
                chosen["customer_id"]).sum()
            expected = sorted(((customer, total) for customer, total in cents.items()
                               if total > 0), key=lambda item: (-item[1], item[0]))[:4]
            got = metrics.top_customers(MANAGER, period, filters, limit=4, engine=engine)
            assert list(zip(got["customer_id"], got["revenue_cents"], strict=True)) == \
                expected, (period, filters)
    assert metrics.top_customers(MANAGER, PERIODS[3], engine=engine).empty
    named = metrics.top_customers(MANAGER, PERIODS[0], limit=1, engine=engine)
    assert named["first_name"].iloc[0].startswith("K") and named["orders"].iloc[0] >= 1


def test_top_customers_add_up_a_customer_spread_over_two_months(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The one who spent 60 in each month beats everyone's 100 in one: the search must
    bound the unseen by the sum of both months' lists, not by either alone."""
    monkeypatch.setattr(top_search, "FIRST_PAGE", 1)
    monkeypatch.setattr(top_search, "LAST_PAGE", 1)
    spend = {"Both": (60, 60), "Jan": (100, 0), "Feb": (0, 100)}
    spend |= {f"J{cents}": (cents, 0) for cents in (95, 94, 93)}
    spend |= {f"F{cents}": (0, cents) for cents in (95, 94, 93)}
    for name, months in spend.items():
        customer_id = create_customer(MANAGER, {"first_name": name, "last_name": "Test",
                                                "country": "DE"}, engine=engine,
                                      confirm=True).id
        for day, amount in zip((_at(19), _at(40)), months, strict=True):
            if amount:
                record_order(MANAGER, customer_id, amount=str(amount), category="books",
                             channel="web", product="p", ordered_at=day, engine=engine)
    got = metrics.top_customers(MANAGER, Period(date(2026, 1, 15), date(2026, 2, 15)),
                                limit=1, engine=engine)
    assert list(zip(got["first_name"], got["revenue_cents"], strict=True)) == [("Both", 12000)]


@pytest.mark.parametrize("granularity", ["week", "month"])
def test_new_and_returning_per_bucket_match_the_reference(engine: Engine, shop: dict,
                                                          granularity: str) -> None:
    """Whole weeks come from the weekly counts, cut ones and months from the sets."""
    period = Period(date(2026, 1, 10), date(2026, 4, 30))
    orders = shop["orders"]
    first_day = orders.groupby("customer_id")["at"].min().map(lambda moment: moment.date())
    for filters in FILTERS[:2]:  # everyone, then one country
        got = metrics.customer_report(MANAGER, period, filters, granularity=granularity,
                                      engine=engine).per_bucket
        bought = orders[(orders["amount"] >= 0) & _who(orders, shop, filters)]
        for row in got.itertuples():
            start = row.bucket.date()
            end = (start + timedelta(days=6) if granularity == "week"
                   else (start + timedelta(days=32)).replace(day=1) - timedelta(days=1))
            bucket = Period(max(start, period.first), min(end, period.last))
            active = set(bought[_days(bought, bucket)]["customer_id"])
            new = {customer for customer in active
                   if bucket.first <= first_day[customer] <= bucket.last}
            assert (row.active, row.new, row.returning) == (len(active), len(new),
                                                            len(active - new)), (row, filters)
        assert got["active"].sum() > 0
        # The Monday (or the first of the month) before the start names the first bucket.
        assert got["bucket"].iloc[0] == pd.Timestamp(2026, 1, 5 if granularity == "week"
                                                      else 1)


def test_dashboard_gathers_the_figures_and_moves_the_previous_period(engine: Engine,
                                                                    shop: dict) -> None:
    period = PERIODS[1]
    board = metrics.dashboard(MANAGER, period, "day", engine=engine)
    assert board.sales == _reference_sales(shop, period, Filters())
    assert board.sales_previous == _reference_sales(shop, period.previous(), Filters())
    # The previous period's first day sits on this period's first day.
    first = board.trend.iloc[0]
    previous_first = _reference_sales(shop, Period(period.previous().first,
                                                   period.previous().first), Filters())
    assert first["previous_revenue_cents"] == previous_first.revenue_cents
    assert len(board.trend) == period.days
    assert not board.has_year_earlier  # the shop's orders start in 2026
    assert board.customers.counts == _reference_customers(shop, period, Filters())
    orders = shop["orders"][_days(shop["orders"], period)
                            & (shop["orders"]["customer_id"] != shop["ids"][3])]
    paying = (orders.groupby("customer_id")["amount"].sum() > 0).sum()
    assert len(board.top_customers) == min(20, paying) > 0


def test_buckets_cut_by_the_period_or_not_over_yet_are_partial() -> None:
    """A Thursday-to-Tuesday period: the first week and month start late, the last ones are
    under way today; a period of whole weeks that ended before today has none."""
    today = date(2026, 12, 1)  # a Tuesday
    period = Period(date(2026, 9, 3), today)

    def partial(granularity: str, days: Period = period) -> dict[date, tuple]:
        spans = metrics.bucket_spans(days, granularity, today=today)
        return {row.bucket.date(): (row.first, row.last) for row in spans.itertuples()
                if row.partial}

    assert partial("week") == {date(2026, 8, 31): (date(2026, 9, 3), date(2026, 9, 6)),
                               date(2026, 11, 30): (date(2026, 11, 30), today)}
    assert partial("month") == {date(2026, 9, 1): (date(2026, 9, 3), date(2026, 9, 30)),
                                date(2026, 12, 1): (today, today)}
    assert partial("day") == {today: (today, today)}  # today is not over
    assert partial("week", Period(date(2026, 11, 2), date(2026, 11, 29))) == {}
    weeks = metrics.bucket_spans(period, "week", today=today)
    assert len(weeks) == 14 and weeks["bucket"].is_monotonic_increasing


def test_the_dashboard_marks_partial_buckets_and_leaves_unfinished_cohort_months_empty(
        engine: Engine, shop: dict) -> None:
    period = Period(date(2026, 1, 8), date(2026, 4, 1))  # a Thursday to a Wednesday
    today = period.last
    board = metrics.dashboard(MANAGER, period, "week", today=today, engine=engine)
    spans = metrics.bucket_spans(period, "week", today=today)
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
    later = metrics.customer_report(MANAGER, period, today=date(2026, 5, 1), engine=engine)
    assert later.cohorts["share"].notna().all()


def test_a_kpi_download_is_in_euros_neutralised_and_named_by_what_and_when() -> None:
    top = pd.DataFrame({"customer_id": [7, 8], "first_name": ['=HYPERLINK("http://x.example")',
                                                             "Ana"],
                        "last_name": ["Evil", "Ruiz"], "revenue_cents": [282_606_412, -450],
                        "previous_revenue_cents": [1000.0, 5.0]})
    download = metrics.csv_download(top, "top-customers",
                                    Period(date(2026, 9, 2), date(2026, 11, 30)))
    assert download.file_name == "top-customers_2026-09-02_2026-11-30.csv"
    text = download.data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["customer_id", "first_name", "last_name", "revenue_eur",
                             "previous_revenue_eur"]
    assert [row["revenue_eur"] for row in rows] == ["2826064.12", "-4.50"]
    assert [row["previous_revenue_eur"] for row in rows] == ["10.00", "0.05"]
    assert rows[0]["first_name"] == '\'=HYPERLINK("http://x.example")'
    one_day = metrics.csv_download(top, "rfm-grid", Period(date(2026, 12, 1), date(2026, 12, 1)))
    assert one_day.file_name == "rfm-grid_2026-12-01.csv"
