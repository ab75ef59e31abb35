"""The retention rule: personal data is kept only while the customer is active.

A customer is past retention when nothing has happened with them — no order, no contact, and
no new record — for longer than the retention period (years, a setting): their newest of
created, last order and last contact falls before the cut-off, the same calendar day that
many years ago (00:00 UTC; 29 February counts from 28 February). Exactly on the cut-off is
still within it. Soft-deleted customers count too (their data is still held); erased ones
are done.

The report lists them; an admin anonymises them all after typing how many there are. Each
one is erased as a request would be (:func:`db.privacy.erasure.anonymise`), except that the
e-mail is not suppressed: someone who simply stopped buying may come back as a new
customer. The audit events of other records are searched only where they name no record
(a lookup export's search), which keeps a run over thousands of customers from reading the
whole trail once per customer.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, case, func, select

from db.admin import settings
from db.audit import trail
from db.core.access import Actor, Capability, require
from db.core.background import Computed
from db.core.engine import get_engine, read_session, write_session
from db.core.sql import table_of
from db.core.types import utcnow
from db.derived.models import CustomerSummary
from db.models import Customer, lock_customers
from db.privacy.erasure import anonymise

REPORT_LIMIT = 1_000  # rows the report lists; the count covers everyone
_CHUNK = 200  # customers anonymised per transaction: short write locks, steady progress
SUMMARY_TABLE = table_of(CustomerSummary)
SUMMARY = SUMMARY_TABLE.c
CUSTOMER = table_of(Customer).c


class RetentionRefused(ValueError):
    """The bulk anonymisation was not carried out; the message says why."""


def cutoff(years: int, today: date) -> datetime:
    """The start of the day ``years`` before ``today`` (UTC)."""
    if years < 1:
        raise RetentionRefused("The retention period must be at least one year.")
    try:
        day = today.replace(year=today.year - years)
    except ValueError:  # 29 February in a year without one
        day = today.replace(year=today.year - years, day=28)
    return datetime.combine(day, time.min, tzinfo=UTC)


def _last_activity() -> ColumnElement[datetime]:
    """The newest of created, last order and last contact (both engines: no GREATEST)."""
    created = SUMMARY.created_at
    ordered = func.coalesce(SUMMARY.last_order_at, created)
    contacted = func.coalesce(SUMMARY.last_interaction_at, created)
    either = case((ordered > created, ordered), else_=created)
    return case((contacted > either, contacted), else_=either)


@dataclass(frozen=True)
class Inactive:
    id: int
    name: str
    country: str
    last_activity: datetime
    deleted: bool


@dataclass(frozen=True)
class RetentionReport:
    years: int  # the retention period it applied
    cutoff: datetime
    total: int  # every customer past retention
    customers: list[Inactive]  # the first REPORT_LIMIT of them, longest inactive first


def _past(cut: datetime) -> Select[Any]:
    """The customers whose last activity falls before ``cut`` and who are not erased (nor
    merged into another: those are erased with their survivor)."""
    last = _last_activity()
    return (select(CUSTOMER.id, CUSTOMER.first_name, CUSTOMER.last_name, CUSTOMER.country,
                   last.label("last_activity"), CUSTOMER.deleted_at)
            .select_from(SUMMARY_TABLE).join(table_of(Customer),
                                             CUSTOMER.id == SUMMARY.customer_id)
            .where(CUSTOMER.erased_at.is_(None), CUSTOMER.merged_into_id.is_(None),
                   last < cut))


def past_retention(actor: Actor, *, years: int | None = None, today: date | None = None,
                   engine: Engine | None = None) -> RetentionReport:
    """Who is past the retention period (admins only): ``years``, or the setting."""
    require(actor, Capability.ADMINISTER)
    years = years or settings.current(engine=engine).retention_years
    cut = cutoff(years, today or utcnow().date())
    query = _past(cut)
    with read_session(engine) as session:
        total = session.execute(select(func.count()).select_from(query.subquery())
                                ).scalar_one()
        rows = session.execute(query.order_by("last_activity", CUSTOMER.id)
                               .limit(REPORT_LIMIT)).all()
    return RetentionReport(years, cut, total, [
        Inactive(row.id, f"{row.first_name} {row.last_name}", row.country, row.last_activity,
                 row.deleted_at is not None) for row in rows])


# The report per (database, data version, retention period, cut-off day): two scans of the
# summary joined to the customers, 1.8-3.6 s at a million (an index on the creation time
# served the default six years in 10 ms but a shorter period's hundreds of thousands of
# customers in 6-26 s), so the page fills it in. Only the newest is kept: it names people,
# and a report from before an erasure must not linger.
_REPORTS: Computed[RetentionReport] = Computed("retention report", keep=1)


def past_retention_of_version(actor: Actor, version: Hashable, *,
                              engine: Engine | None = None, wait_s: float | None = None
                              ) -> tuple[bool, RetentionReport | None]:
    """:func:`past_retention` computed once per data ``version``
    (:func:`db.kpi.board.data_version`) and day in the background: (True, report) when
    known within ``wait_s``, else (False, None) while computing
    (:class:`db.core.background.Computed`)."""
    require(actor, Capability.ADMINISTER)
    engine = engine or get_engine()
    key = _report_key(engine, version)
    _, _, years, today = key
    return _REPORTS.get(key, lambda: past_retention(actor, years=years, today=today,
                                                    engine=engine), wait_s=wait_s)


def retention_report_failed(version: Hashable, *, engine: Engine | None = None) -> bool:
    """Whether computing the report of ``version`` failed (the server's log says why)."""
    return _REPORTS.failed(_report_key(engine or get_engine(), version))


def _report_key(engine: Engine, version: Hashable) -> tuple[str, Hashable, int, date]:
    return (engine.url.render_as_string(hide_password=True), version,
            settings.current(engine=engine).retention_years, utcnow().date())


def forget_retention_reports() -> None:
    """Drop the report kept (tests: a database emptied reaches old versions again)."""
    _REPORTS.forget()


def anonymise_past_retention(actor: Actor, *, confirmation: str, years: int | None = None,
                             today: date | None = None, engine: Engine | None = None) -> int:
    """Erase everyone past retention (``years``, or the setting; admins only), confirmed by
    typing how many there are; returns how many were anonymised. Each chunk checks again
    under its locks, so a customer who ordered since the report stays."""
    require(actor, Capability.ADMINISTER)
    report = past_retention(actor, years=years, today=today, engine=engine)
    years, cut = report.years, report.cutoff
    if confirmation.strip() != str(report.total):
        raise RetentionRefused(f"To confirm, type the number of customers past retention "
                               f"({report.total}).")
    with read_session(engine) as session:
        ids = [row.id for row in session.execute(_past(cut))]
    done = 0
    for start in range(0, len(ids), _CHUNK):
        with write_session(engine) as session:
            chunk = ids[start:start + _CHUNK]
            lock_customers(session, chunk)
            still = session.execute(_past(cut).where(CUSTOMER.id.in_(chunk)))
            for customer_id in sorted(row.id for row in still):
                customer = session.get(Customer, customer_id)
                assert customer is not None
                anonymise(session, actor, customer, reason="retention", suppress=False,
                          search_others=False)
                done += 1
    if done:
        with write_session(engine) as session:
            trail.record(session, actor=actor.username, action="retention.anonymise",
                         entity="customer", changes={"years": years, "cutoff": cut,
                                                     "customers": done}, source="form")
    return done
