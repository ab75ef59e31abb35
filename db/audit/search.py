"""Reading the audit trail: filtered, keyset-paged, and exportable.

One query serves the Audit page, a customer's History tab and the CSV export. Pages walk
backwards by id (newest first) with ``before_id`` rather than OFFSET, so page 100 costs
what page 1 costs; each filter has an index that leads with it and ends with ``id``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
from sqlalchemy import Engine, false
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from db.audit import trail
from db.core.access import Actor, Capability, require
from db.core.engine import read_session, write_session
from db.exports import spreadsheet_csv
from db.models import AuditEvent

PAGE_SIZE = 50
EXPORT_LIMIT = 100_000
EXPORT_COLUMNS = ["id", "at_utc", "actor", "action", "entity", "entity_id", "source", "changes",
                  "hash"]


@dataclass(frozen=True)
class AuditFilter:
    """Which events to show; every field is optional. Dates are UTC days, both inclusive."""

    actor: str | None = None
    action: str | None = None
    entity: str | None = None
    entity_id: str | None = None
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    next_before_id: int | None  # pass as ``before_id`` for the next (older) page


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: object
    new: object


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _date_bounds_as_ids(session: Session, filters: AuditFilter) -> tuple[int | None, int | None]:
    """The id range of the date filter, found on the ``at`` index.

    Ids and times rise together (:func:`db.audit.trail.record` stamps the time under the chain
    lock), so a date range is an id range, and paging by id stays on the primary key instead
    of scanning from the newest event back to an old date range.
    """
    low = high = None
    at = col(AuditEvent.at)
    if filters.since:  # the first event at or after the start: one seek on the index
        low = session.exec(select(AuditEvent.id).where(at >= _day_start(filters.since))
                           .order_by(at).limit(1)).first()
    if filters.until:  # the last event before the day after the end
        high = session.exec(select(AuditEvent.id).where(
            at < _day_start(filters.until + timedelta(days=1))).order_by(at.desc()).limit(1)
        ).first()
    return low, high


def _filtered(query: SelectOfScalar[AuditEvent], filters: AuditFilter,
              session: Session) -> SelectOfScalar[AuditEvent]:
    if filters.actor:
        query = query.where(col(AuditEvent.actor) == filters.actor)
    if filters.action:
        query = query.where(col(AuditEvent.action) == filters.action)
    if filters.entity:
        query = query.where(col(AuditEvent.entity) == filters.entity)
    if filters.entity_id:
        query = query.where(col(AuditEvent.entity_id) == filters.entity_id)
    if filters.since or filters.until:
        low, high = _date_bounds_as_ids(session, filters)
        if (filters.since and low is None) or (filters.until and high is None):
            return query.where(false())
        if low is not None:
            query = query.where(col(AuditEvent.id) >= low)
        if high is not None:
            query = query.where(col(AuditEvent.id) <= high)
    return query


def search_events(actor: Actor, filters: AuditFilter, *, before_id: int | None = None,
                  limit: int = PAGE_SIZE, engine: Engine | None = None) -> AuditPage:
    """One page of matching events, newest first, older than ``before_id`` if given."""
    require(actor, Capability.VIEW_AUDIT)
    if filters.since and filters.until and filters.since > filters.until:
        raise ValueError("The start date is after the end date.")
    with read_session(engine) as session:
        query = _filtered(select(AuditEvent), filters, session)
        if before_id is not None:
            query = query.where(col(AuditEvent.id) < before_id)
        events = list(session.exec(query.order_by(col(AuditEvent.id).desc()).limit(limit + 1)))
    more = len(events) > limit
    events = events[:limit]
    return AuditPage(events, events[-1].id if more and events else None)


def filter_options(actor: Actor, *, engine: Engine | None = None) -> dict[str, list[str]]:
    """The actors, actions and entities that occur, for the page's select boxes."""
    require(actor, Capability.VIEW_AUDIT)
    with read_session(engine) as session:
        return {
            name: sorted(session.exec(select(column).distinct()))
            for name, column in (("actor", AuditEvent.actor), ("action", AuditEvent.action),
                                 ("entity", AuditEvent.entity))
        }


def field_changes(event: AuditEvent) -> list[FieldChange]:
    """The event's changes as rows: ``[old, new]`` pairs split, other facts as new values."""
    rows = []
    for field, value in json.loads(event.changes).items():
        if isinstance(value, list) and len(value) == 2:
            rows.append(FieldChange(field, value[0], value[1]))
        else:
            rows.append(FieldChange(field, None, value))
    return rows


def export_csv(actor: Actor, filters: AuditFilter, *,
               engine: Engine | None = None) -> tuple[bytes, int, bool]:
    """The matching events as CSV (newest first), the row count and whether the export
    stopped at :data:`EXPORT_LIMIT`. The file is written by :func:`db.exports.spreadsheet_csv`,
    so formulas are neutralised as in every other download. The export is itself audited."""
    require(actor, Capability.VIEW_AUDIT)
    rows: list[tuple[object, ...]] = []
    truncated = False
    with read_session(engine) as session:
        query = _filtered(select(AuditEvent), filters, session).order_by(
            col(AuditEvent.id).desc()).limit(EXPORT_LIMIT + 1)
        for event in session.exec(query.execution_options(yield_per=5_000)):
            if len(rows) == EXPORT_LIMIT:
                truncated = True
                break
            rows.append((event.id, event.at.isoformat(), event.actor, event.action,
                         event.entity, event.entity_id, event.source, event.changes,
                         event.hash))
    with write_session(engine) as session:
        trail.record(session, actor=actor.username, action="audit.export", entity="audit_event",
                     changes={"rows": len(rows), "filters": json.dumps(filters.__dict__,
                                                                       default=str)},
                     source="form")
    return spreadsheet_csv(pd.DataFrame(rows, columns=EXPORT_COLUMNS)), len(rows), truncated
