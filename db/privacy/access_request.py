"""A subject access request (GDPR art. 15, CCPA's right to know): everything custdb holds
about one customer, in one zip.

:func:`access_request` (admins only) reads every part of the record — of a live,
soft-deleted or erased customer alike, since the data is held either way — through the
profile's readers (:func:`db.customers.profile.held_rows`), the segments' membership code
and the audit trail's search, and writes each part twice: ``<part>.json`` for programs and
``<part>.csv`` for spreadsheets, through :func:`db.exports.spreadsheet_csv` so no cell runs
as a formula; ``README.txt`` says what each file is, when it was made and by which
installation. It is audited as ``customer.access_request`` with the file's name and sizes
only: no personal value goes into the event.

Payment methods leave masked (brand, last four, expiry): the processor's token is a
credential of the business, not data about the person, and is never read out.

The parts cover every table that references a customer; ``tests/privacy/
test_access_request.py`` finds those from the metadata and fails when a table is added
whose values do not reach the zip.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, or_, select
from sqlmodel import Session, SQLModel, col

from db import exports
from db.admin import settings
from db.audit import trail
from db.audit.search import AuditFilter, search_events
from db.core.access import Actor, Capability, require
from db.core.engine import get_engine, read_session, write_session
from db.core.sql import table_of
from db.core.types import utcnow
from db.customers import profile, restriction
from db.customers.service import CustomerNotFound
from db.models import (
    ConsentEvent,
    Customer,
    CustomerRestriction,
    CustomerTag,
    Feedback,
    Interaction,
    Order,
    PaymentMethod,
    Segment,
    SegmentMember,
    Tag,
)
from db.predict.models import CustomerPrediction
from db.quality.models import DuplicateCandidate, DuplicateDecision
from db.segments.membership import SegmentError, member_condition
from db.segments.rows import S, rows_for

ACTION = "customer.access_request"
# Each part of the zip, in this order, with what README.txt says it holds.
PARTS: dict[str, str] = {
    "profile": "the customer record: every stored field, with when it was created, last "
               "changed, soft-deleted or erased; then any record of the same person merged "
               "into it (merged_into_id names this one)",
    "orders": "every order and refund (a refund has a negative amount), newest first",
    "interactions": "every contact logged with the customer (calls, e-mails, meetings, "
                    "tickets, notes); staff_user_id is the account of whoever logged it",
    "feedback": "every survey answer: the Net Promoter Score (0-10) and its comment",
    "consent_history": "every grant and withdrawal of consent per purpose, with its source "
                       "and privacy-notice version; the newest per purpose is in force",
    "payment_methods": "stored cards, masked: brand, last four digits and expiry (the full "
                       "number is never stored, and the payment processor's token is not "
                       "handed out)",
    "tags": "the interests and labels attached to the customer",
    "segments": "the saved target groups the customer is in today: dynamic ones evaluated "
                "when this file was made, static ones from their saved snapshot",
    "restrictions": "each time the customer was marked do not contact (an objection) or "
                    "had processing restricted: when, by which staff account and why it was "
                    "set, and when, by whom and why it was lifted (empty while it holds)",
    "possible_duplicates": "pairs of records the duplicate check found may be the same "
                           "person, with its score (0-1) and reasons",
    "duplicate_verdicts": "a reviewer's verdict on such a pair: the same person or not, by "
                          "which staff account and when",
    "predictions": "the newest scores of the purchase model (see the README's Predictions): "
                   "the history they came from (kind 0 no orders, 1 refunds only, 2 one "
                   "purchase, 3 repeat purchases), the probability the customer is still "
                   "active, the purchases expected in 90 days, the expected spend per "
                   "purchase and the 12-month value; fit_id names the fit",
    "audit_events": "every recorded action about the customer: when, by which staff "
                    "account, what changed (old and new values) and from where",
}
# A card leaves as the profile shows it; the token is named here so it is never dumped.
_CARD_COLUMNS = ["id", "customer_id", "brand", "card", "last4", "expiry", "exp_month",
                 "exp_year", "expired", "created_at"]
_AUDIT_COLUMNS = ["id", "at", "actor", "action", "entity", "entity_id", "source", "changes"]
_AUDIT_PAGE = 1_000

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class AccessRequest:
    """The finished zip: its bytes, a suggested file name and the rows of each part."""

    data: bytes
    filename: str
    rows: dict[str, int]
    mime: str = "application/zip"

    @property
    def files(self) -> list[str]:
        """The files inside, in the order README.txt lists them."""
        return [*(f"{part}.{ext}" for part in self.rows for ext in ("json", "csv")),
                "README.txt"]


def _json(value: object) -> object:
    """A stored value JSON cannot hold as it is: times and days as ISO 8601, amounts as
    exact text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} has no JSON form here")


def _cell(value: object) -> object:
    """A value as a CSV cell: times and days as in the JSON file, a nested value (an audit
    event's changes) as JSON text, an amount as a number (so a refund's minus sign is not
    taken for a formula)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=_json)
    return value


def _columns(model: type[SQLModel]) -> list[str]:
    return list(table_of(model).c.keys())


def _dump(row: SQLModel) -> dict[str, Any]:
    """Every column of a stored row, under its column name."""
    return {name: getattr(row, name) for name in _columns(type(row))}


def _state(customer: Customer) -> str:
    if customer.erased_at is not None:
        return f"erased on {customer.erased_at:%Y-%m-%d %H:%M} UTC"
    if customer.deleted_at is not None:
        return f"soft-deleted on {customer.deleted_at:%Y-%m-%d %H:%M} UTC"
    return "live"


def _cards(actor: Actor, customer_id: int, engine: Engine) -> Rows:
    today = utcnow().date()
    rows = []
    for card in profile.held_rows(actor, PaymentMethod, customer_id, engine=engine):
        shown = profile.masked(card, today)
        rows.append({"id": card.id, "customer_id": card.customer_id, "brand": shown.brand,
                     "card": shown.masked_number, "last4": card.last4,
                     "expiry": shown.expiry, "exp_month": card.exp_month,
                     "exp_year": card.exp_year, "expired": shown.expired,
                     "created_at": card.created_at})
    return rows


def _tags(session: Session, customer_id: int) -> Rows:
    return [{"customer_id": customer_id, "tag_id": tag_id, "tag": name}
            for tag_id, name in session.execute(
        select(col(Tag.id), col(Tag.name)).join(CustomerTag)
        .where(col(CustomerTag.customer_id) == customer_id).order_by(col(Tag.name)))]


def _segments(connection: Connection, customer_id: int) -> Rows:
    """The saved segments the customer is in now: a static one by its snapshot (which
    keeps a soft-deleted customer), a dynamic one by its definition evaluated now (a
    definition that can no longer be evaluated is listed as such)."""
    now = utcnow()
    with Session(connection) as session:
        segments = list(session.execute(select(Segment).order_by(col(Segment.id))).scalars())
    in_snapshot = set(connection.execute(
        select(col(SegmentMember.segment_id))
        .where(col(SegmentMember.customer_id) == customer_id)).scalars())
    rows = []
    for segment in segments:
        if segment.kind == "static":
            if segment.id not in in_snapshot:
                continue
            basis = f"static: in its snapshot of {segment.snapshot_at:%Y-%m-%d %H:%M} UTC"
        else:
            try:
                where = member_condition(segment, connection, now)
            except SegmentError:
                basis = "dynamic: its definition can no longer be evaluated"
            else:
                if connection.execute(select(S.customer_id).select_from(rows_for(where))
                                      .where(where, S.customer_id == customer_id)).first() is None:
                    continue
                basis = f"dynamic: matched on {now:%Y-%m-%d %H:%M} UTC"
        rows.append({"customer_id": customer_id, "segment_id": segment.id,
                     "name": segment.name, "kind": segment.kind,
                     "description": segment.description, "membership": basis})
    return rows


def _audit_events(actor: Actor, customer_id: int, engine: Engine) -> Rows:
    rows: Rows = []
    before: int | None = None
    while True:
        page = search_events(actor, AuditFilter(entity="customer", entity_id=str(customer_id)),
                             before_id=before, limit=_AUDIT_PAGE, engine=engine)
        rows += [{"id": event.id, "at": event.at, "actor": event.actor,
                  "action": event.action, "entity": event.entity,
                  "entity_id": event.entity_id, "source": event.source,
                  "changes": json.loads(event.changes)} for event in page.events]
        if page.next_before_id is None:
            return rows
        before = page.next_before_id


def _held(actor: Actor, model: type[profile.Row], customer_id: int, engine: Engine
          ) -> tuple[list[str], Rows]:
    """Every row of ``model`` held about the customer, every column."""
    return _columns(model), [_dump(row) for row in profile.held_rows(
        actor, model, customer_id, engine=engine)]


def _pairs(model: type[DuplicateCandidate] | type[DuplicateDecision], customer_id: int,
           engine: Engine) -> tuple[list[str], Rows]:
    """The duplicate-check rows naming the customer on either side of a pair."""
    table = table_of(model)
    with engine.connect() as connection:
        rows = connection.execute(select(table).where(or_(
            table.c.left_id == customer_id, table.c.right_id == customer_id))
            .order_by(table.c.left_id, table.c.right_id)).mappings().all()
    return _columns(model), [dict(row) for row in rows]


def _scores(customer_id: int, engine: Engine) -> tuple[list[str], Rows]:
    """The customer's stored prediction scores (none before a fit)."""
    table = table_of(CustomerPrediction)
    with engine.connect() as connection:
        rows = connection.execute(select(table).where(
            table.c.customer_id == customer_id)).mappings().all()
    return _columns(CustomerPrediction), [dict(row) for row in rows]


def parts_of(actor: Actor, customer_id: int, *, engine: Engine | None = None
             ) -> tuple[Customer, dict[str, tuple[list[str], Rows]]]:
    """The customer and each part of :data:`PARTS` as its columns and rows (stored
    values); admins only, for a customer in any state (:class:`CustomerNotFound` when there
    is no such customer)."""
    require(actor, Capability.ADMINISTER)
    engine = engine or get_engine()
    with read_session(engine) as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise CustomerNotFound(f"There is no customer {customer_id}.")
        tags = _tags(session, customer_id)
        # A duplicate merged into this customer keeps its own row (its old name, address):
        # data held about the same person.
        merged_in = [_dump(row) for row in session.execute(
            select(Customer).where(col(Customer.merged_into_id) == customer_id)
            .order_by(col(Customer.id))).scalars()]

    with engine.connect() as connection:
        segments = _segments(connection, customer_id)
    parts = {
        "profile": (_columns(Customer), [_dump(customer), *merged_in]),
        "orders": _held(actor, Order, customer_id, engine),
        "interactions": _held(actor, Interaction, customer_id, engine),
        "feedback": _held(actor, Feedback, customer_id, engine),
        "consent_history": _held(actor, ConsentEvent, customer_id, engine),
        "payment_methods": (_CARD_COLUMNS, _cards(actor, customer_id, engine)),
        "tags": (["customer_id", "tag_id", "tag"], tags),
        "segments": (["customer_id", "segment_id", "name", "kind", "description",
                      "membership"], segments),
        "restrictions": (_columns(CustomerRestriction), [
            _dump(row) for row in restriction.history(actor, customer_id, engine=engine)]),
        "possible_duplicates": _pairs(DuplicateCandidate, customer_id, engine),
        "duplicate_verdicts": _pairs(DuplicateDecision, customer_id, engine),
        "predictions": _scores(customer_id, engine),
        "audit_events": (_AUDIT_COLUMNS, _audit_events(actor, customer_id, engine)),
    }
    return customer, parts


def installation(engine: Engine) -> str:
    """Who made a file, as the person receiving it should read it: the company (the
    settings' company name) and custdb's version. Not the host or the database's name:
    the file leaves the company, and those are nobody's business outside it."""
    try:
        release = version("custdb")
    except PackageNotFoundError:  # run from a checkout that was not installed
        release = "(version unknown)"
    company = settings.current(engine=engine).company_name
    return (f"{company} with " if company else "") + f"custdb {release}"


def _readme(customer: Customer, parts: dict[str, tuple[list[str], Rows]], made: datetime,
            engine: Engine) -> str:
    lines = [f"Subject access request: everything custdb holds about customer "
             f"#{customer.id}.",
             f"Made on {made:%Y-%m-%d} at {made:%H:%M:%S} UTC by {installation(engine)}.",
             f"The customer record is {_state(customer)}.",
             "",
             "Each part is in two files with the same rows: <part>.json (for programs) and "
             "<part>.csv (UTF-8, for spreadsheets; text that would start a formula has a "
             "leading apostrophe). Times are UTC in ISO 8601; amounts are exact, in the "
             "order's currency. This request itself is recorded in the audit trail after "
             "the file was made, so it is not among the audit events.",
             "", "Files:"]
    for part, (_, rows) in parts.items():
        lines.append(f"- {part}.json, {part}.csv ({len(rows)} "
                     f"{'row' if len(rows) == 1 else 'rows'}): {PARTS[part]}.")
    lines.append("- README.txt: this description.")
    return "\n".join(lines) + "\n"


def _csv(columns: list[str], rows: Rows) -> bytes:
    frame = pd.DataFrame([[_cell(row[name]) for name in columns] for row in rows],
                         columns=columns, dtype=object)  # object: an id stays 7, not 7.0
    return exports.spreadsheet_csv(frame)


def access_request(actor: Actor, customer_id: int, *, engine: Engine | None = None
                   ) -> AccessRequest:
    """Everything held about the customer as one zip (see the module's docstring), admins
    only; audited as ``customer.access_request`` with the file name, its size in bytes and
    the rows per part (``rows of <part>``)."""
    require(actor, Capability.ADMINISTER)
    engine = engine or get_engine()
    customer, parts = parts_of(actor, customer_id, engine=engine)
    made = utcnow()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for part, (columns, rows) in parts.items():
            archive.writestr(f"{part}.json", json.dumps(rows, ensure_ascii=False, indent=2,
                                                        default=_json))
            archive.writestr(f"{part}.csv", _csv(columns, rows))
        archive.writestr("README.txt", _readme(customer, parts, made, engine))
    request = AccessRequest(
        data=buffer.getvalue(),
        filename=exports.filename(f"access request customer {customer_id}",
                                  fallback="access-request", ext="zip"),
        rows={part: len(rows) for part, (_, rows) in parts.items()})
    with write_session(engine) as session:
        trail.record(session, actor=actor.username, action=ACTION, entity="customer",
                     entity_id=customer_id,
                     changes={"file": request.filename, "bytes": len(request.data),
                              **{f"rows of {part}": rows
                                 for part, rows in request.rows.items()}}, source="form")
    return request
