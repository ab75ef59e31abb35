"""The KPI page's one call: every figure for one choice of period, granularity and filters
(:func:`dashboard`, what the page caches and the benchmark times), the first and last day
with an order (:func:`order_days`, the date fields' range), the number that keys the page's
cache (:func:`data_version`), and its charts' rows as CSV downloads
(:func:`csv_download`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
from sqlalchemy import ColumnElement, Engine, func, select

from db import exports
from db.core.access import Actor, Capability, require
from db.core.engine import get_engine
from db.core.sql import table_of
from db.core.types import utcnow
from db.derived.sales_cells import sales_table
from db.kpi import scope as kpi_scope
from db.kpi.customers import CustomerReport, customer_report
from db.kpi.engagement import Engagement, engagement, nps_daily, nps_of
from db.kpi.filters import NO_FILTERS, Filters
from db.kpi.periods import Period, bucket_spans, bucketed
from db.kpi.rfm import average_lifetime_value_cents, rfm
from db.kpi.sales import Sales, breakdown, daily, sales, totals
from db.kpi.top import top_customers
from db.models import AuditEvent, Customer, Feedback, Interaction, Order


@dataclass(frozen=True)
class Dashboard:
    """Every figure of the KPI page for one choice of period, granularity and filters."""

    period: Period
    first_day: date | None  # the first day with an order: comparisons before it are empty
    sales: Sales
    sales_previous: Sales
    sales_year_earlier: Sales
    # Per bucket: the sales measures, ``previous_*`` moved onto it, and its span
    # (``first``, ``last``, ``partial``; see :func:`db.kpi.periods.bucket_spans`), as have
    # the other series.
    trend: pd.DataFrame
    customers: CustomerReport
    engagement: Engagement
    engagement_previous: Engagement
    engagement_year_earlier: Engagement
    lifetime_value_cents: float | None
    by_category: pd.DataFrame
    by_channel: pd.DataFrame
    nps: pd.DataFrame  # per bucket with answers: promoters, passives, detractors and nps
    rfm: pd.DataFrame
    top_customers: pd.DataFrame

    @property
    def has_year_earlier(self) -> bool:
        """Whether the days a year earlier lie within the data (else no comparison)."""
        return self.first_day is not None and self.first_day <= self.period.year_earlier().first


def dashboard(actor: Actor, period: Period, granularity: str, filters: Filters = NO_FILTERS, *,
              today: date | None = None, as_of: date | None = None,
              engine: Engine | None = None) -> Dashboard:
    """Every figure of the KPI page. ``today`` says which buckets and months are not over;
    the RFM grid is scored on ``as_of`` (default ``today``; the newest order's day for old
    data, see :func:`db.kpi.periods.as_of`).

    The sales figures and the others (customers, contacts, answers, value) are computed side
    by side, each on a connection of its own (see :mod:`db.kpi.scope`): with a segment filter
    each half works out the members once, and the database reads of the two halves, most of
    the page's time, use both cores of a small server. The halves read at nearly the same
    moment, not in one snapshot: a write between them shows in one half only, until the
    data version it moves has the page computed anew."""
    require(actor, Capability.VIEW_KPIS)
    engine = engine or get_engine()
    today = today or utcnow().date()
    previous = period.previous()
    spans = bucket_spans(period, granularity, today=today)
    shown = (period, previous, period.year_earlier())  # the days of the sales figures

    def others() -> _Others:
        with kpi_scope.shared(engine, filters.segment_id, shown):
            answers = bucketed(nps_daily(actor, period, filters, engine=engine), granularity)
            return _Others(
                customers=customer_report(actor, period, filters, granularity=granularity,
                                          today=today, engine=engine),
                engagement=engagement(actor, period, filters, engine=engine),
                engagement_previous=engagement(actor, previous, filters, engine=engine),
                engagement_year_earlier=engagement(actor, period.year_earlier(), filters,
                                                   engine=engine),
                lifetime_value_cents=average_lifetime_value_cents(actor, filters,
                                                                  engine=engine),
                nps=answers.assign(nps=nps_of(answers)).merge(spans, on="bucket"),
                rfm=rfm(actor, filters, today=as_of or today, engine=engine),
                top_customers=top_customers(actor, period, filters, engine=engine))

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kpi-figures") as pool:
        beside = None if _one_database_per_connection(engine) else pool.submit(others)
        with kpi_scope.shared(engine, filters.segment_id, shown) as connection:
            current_days = daily(actor, period, filters, engine=engine)
            previous_days = daily(actor, previous, filters, engine=engine)
            moved = previous_days.assign(day=previous_days["day"] + timedelta(days=period.days))
            trend = bucketed(current_days, granularity).merge(
                bucketed(moved, granularity).add_prefix("previous_").rename(
                    columns={"previous_bucket": "bucket"}), on="bucket", how="left").fillna(0)
            first_day = connection.execute(select(func.min(sales_table(set()).table.c.day))
                                           ).scalar_one()
            sales_year_earlier = sales(actor, period.year_earlier(), filters, engine=engine)
            by_category = breakdown(actor, period, "category", filters, engine=engine)
            by_channel = breakdown(actor, period, "channel", filters, engine=engine)
        rest = beside.result() if beside else others()
    return Dashboard(
        period=period, first_day=first_day, sales=totals(current_days),
        sales_previous=totals(previous_days), sales_year_earlier=sales_year_earlier,
        trend=trend.merge(spans, on="bucket"), customers=rest.customers,
        engagement=rest.engagement, engagement_previous=rest.engagement_previous,
        engagement_year_earlier=rest.engagement_year_earlier,
        lifetime_value_cents=rest.lifetime_value_cents, by_category=by_category,
        by_channel=by_channel, nps=rest.nps, rfm=rest.rfm, top_customers=rest.top_customers)


def _one_database_per_connection(engine: Engine) -> bool:
    """In-memory SQLite: each connection opens an empty database of its own (and the pool
    gives each thread its own connection), so the page's halves take turns on one thread."""
    database = engine.url.database
    return engine.dialect.name == "sqlite" and (
        not database or database == ":memory:" or "mode=memory" in database)


@dataclass(frozen=True)
class _Others:
    """The figures :func:`dashboard` computes beside the sales figures."""

    customers: CustomerReport
    engagement: Engagement
    engagement_previous: Engagement
    engagement_year_earlier: Engagement
    lifetime_value_cents: float | None
    nps: pd.DataFrame
    rfm: pd.DataFrame
    top_customers: pd.DataFrame


def order_days(actor: Actor, *, engine: Engine | None = None) -> Period | None:
    """The first and the last UTC day with an order or a refund (of any customer, deleted
    ones included, as the sales figures count them); None before the first order."""
    require(actor, Capability.VIEW_KPIS)
    days = sales_table(set()).table.c.day
    with kpi_scope.connect(engine) as connection:
        first, last = connection.execute(select(func.min(days), func.max(days))).one()
    return None if first is None else Period(first, last)


# Audit events that change nothing the pages show: signing in and out, and reading data out
# (exports, an access request's copy, a backup). Everything else counts, so an event added
# later moves the version until it is listed here: a needless recount, never a stale figure.
READ_ONLY_ACTIONS = frozenset({
    "login.success", "login.failure", "login.refused", "logout", "audit.export",
    "customer.export_all", "customer.export_record", "customer.access_request",
    "lookup.export", "quality.export", "segment.export", "database.backup"})


def data_version(*, engine: Engine | None = None) -> tuple[int, ...]:
    """A value that changes with every committed write of data the pages show, for keying
    cached figures.

    First the newest audit event's id that is not in :data:`READ_ONLY_ACTIONS`: every write
    service records an event, and the audit chain admits one writer at a time (a transaction
    lock on PostgreSQL, the write lock on SQLite), so it rises in commit order; a sign-in
    writes an event too, but must not empty the caches of everyone's next page. Then the
    newest customer, order, interaction and answer ids, so that a bulk load writing rows
    without an event (the demo loader) moves it too. One query over primary keys: the
    newest events are read backwards along the primary key until one is not read-only.
    """
    events = table_of(AuditEvent).c
    changed = (select(events.id).where(events.action.not_in(READ_ONLY_ACTIONS))
               .order_by(events.id.desc()).limit(1).scalar_subquery())
    newest: list[ColumnElement[int]] = [func.coalesce(changed, 0)]
    newest += [select(func.coalesce(func.max(table_of(model).c.id), 0)).scalar_subquery()
               for model in (Customer, Order, Interaction, Feedback)]
    with kpi_scope.connect(engine) as connection:
        return tuple(int(value) for value in connection.execute(select(*newest)).one())


@dataclass(frozen=True)
class Download:
    """A KPI table ready to download: CSV bytes and the file name."""

    data: bytes
    file_name: str


def _euros(amount_cents: float) -> Decimal | None:
    """Cents as euros with exactly two decimals (a Decimal, so the CSV shows 10.00)."""
    return None if pd.isna(amount_cents) else Decimal(round(amount_cents)).scaleb(-2)


def csv_download(frame: pd.DataFrame, what: str, days: Period) -> Download:
    """``frame`` as a spreadsheet-safe CSV (:func:`db.exports.spreadsheet_csv`, so a name
    such as ``=HYPERLINK(...)`` cannot run), money in euros: each ``*_cents`` column becomes
    ``*_eur`` with two decimals. Named by what it holds and its days, e.g.
    ``revenue-by-week_2026-09-02_2026-11-30.csv`` (one date for a single day)."""
    money = {name: name.removesuffix("_cents") + "_eur" for name in frame.columns
             if name.endswith("_cents")}
    shown = frame.assign(**{name: frame[name].map(_euros) for name in money}
                         ).rename(columns=money)
    dates = (f"{days.first:%Y-%m-%d}" if days.days == 1
             else f"{days.first:%Y-%m-%d}_{days.last:%Y-%m-%d}")
    return Download(exports.spreadsheet_csv(shown), f"{what}_{dates}.csv")
