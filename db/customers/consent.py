"""Consent: every grant or withdrawal is a new row of ``consent_event``, never an edit.

The database refuses UPDATE and DELETE of that table (migration ``0006_consent_history``), so
the history shows what each person was asked, when, from which source and under which
privacy notice, and who recorded it. The current state of a purpose is its newest row
(ties: the later id), as ``customer_summary`` derives it for segments and exports; a
purpose without rows was never asked, which counts as not granted.

:func:`record_consent` is how staff and scripts append a row: the source comes from
:data:`RECORDED_SOURCES`, the notice version is required, and who recorded it is the acting
user's account, never a value the caller passes. Imports append theirs in bulk with source
``import`` (:mod:`db.imports.consent`). The same change recorded again by the same person
within :data:`db.audit.recent.DOUBLE_SUBMIT_WINDOW` (a double click on "Record") is refused
with :class:`AlreadyRecorded`: the history is append-only, so a twin could never be removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy import Engine, select
from sqlmodel import Session

from db.audit import recent, trail
from db.core.access import Actor, Capability, require
from db.core.engine import read_session, write_session
from db.core.sql import table_of
from db.core.types import utcnow
from db.customers.service import CustomerNotFound
from db.customers.validation import InvalidFields, text_errors
from db.derived.hook import customers_changed
from db.models import (
    CONSENT_PURPOSES,
    CONSENT_SOURCES,
    ConsentEvent,
    Customer,
    User,
    is_live,
    lock_customers,
)

# What a person records by hand; "import" is written by file imports only.
RECORDED_SOURCES = tuple(source for source in CONSENT_SOURCES if source != "import")
NOTICE_LENGTH = 20

EVENT = table_of(ConsentEvent)
USER = table_of(User)


class AlreadyRecorded(ValueError):
    """The same grant or withdrawal was recorded moments ago by the same person (a double
    submit); nothing was written."""

    def __init__(self, purpose: str, granted: bool) -> None:
        super().__init__(f"{purpose.replace('_', ' ').capitalize()}: "
                         f"{'granted' if granted else 'withdrawn'} was already recorded moments "
                         "ago; it was not recorded twice.")


@dataclass(frozen=True)
class ConsentRecord:
    """One row of a customer's consent history, with who recorded it by name."""

    id: int
    purpose: str
    granted: bool
    at: datetime
    source: str
    notice_version: str
    recorded_by: str | None  # "Display name (username)"; None: no account (a script)


class _Event(Protocol):
    @property
    def purpose(self) -> str: ...


Event = TypeVar("Event", bound=_Event)


def state_word(record: ConsentRecord | ConsentEvent | None) -> str:
    return "never asked" if record is None else "granted" if record.granted else "withdrawn"


def history(actor: Actor, customer_id: int, *,
            engine: Engine | None = None) -> list[ConsentRecord]:
    """Every grant and withdrawal of a live customer, newest first, with who recorded it."""
    require(actor, Capability.LOOKUP)
    with read_session(engine) as session:
        _live_customer(session, customer_id)
        rows = session.execute(
            select(EVENT.c.id, EVENT.c.purpose, EVENT.c.granted, EVENT.c.at, EVENT.c.source,
                   EVENT.c.notice_version, USER.c.display_name, USER.c.username)
            .outerjoin(USER, USER.c.id == EVENT.c.recorded_by_user_id)
            .where(EVENT.c.customer_id == customer_id)
            .order_by(EVENT.c.at.desc(), EVENT.c.id.desc()))
        return [ConsentRecord(row.id, row.purpose, row.granted, row.at, row.source,
                              row.notice_version,
                              None if row.username is None
                              else f"{row.display_name} ({row.username})")
                for row in rows]


def current(records: Sequence[Event]) -> dict[str, Event | None]:
    """The newest row per purpose (None: never asked) from a newest-first history."""
    state: dict[str, Event | None] = dict.fromkeys(CONSENT_PURPOSES)
    for record in records:
        if state.get(record.purpose) is None:
            state[record.purpose] = record
    return state


def problems(*, purpose: str, granted: object, source: str, notice_version: str,
             sources: tuple[str, ...] = RECORDED_SOURCES) -> dict[str, str]:
    """What is wrong with a consent change, per field (empty: it can be recorded)."""
    errors = {}
    if purpose not in CONSENT_PURPOSES:
        errors["purpose"] = f"Choose one of: {', '.join(CONSENT_PURPOSES)}."
    if not isinstance(granted, bool):
        errors["granted"] = "Say whether consent is granted or withdrawn."
    if source not in sources:
        errors["source"] = ("Choose where the consent came from: " + ", ".join(sources)
                            + ("" if "import" in sources else
                               " (imports record their own, as import)") + ".")
    notice = notice_version.strip()
    if not notice or len(notice) > NOTICE_LENGTH:
        errors["notice_version"] = ("Name the privacy notice version the customer saw "
                                    f"(at most {NOTICE_LENGTH} characters).")
    errors |= text_errors({"notice_version": notice_version})
    return errors


def record_consent(actor: Actor, customer_id: int, *, purpose: str, granted: bool,
                   source: str, notice_version: str,
                   engine: Engine | None = None) -> ConsentEvent:
    """Append a grant or withdrawal, recorded by the acting user's account (none for an
    operator without one); audited as ``consent.change``. The history is never edited.

    The same change (purpose, grant or withdrawal, source, notice version) that the same
    actor recorded as this purpose's latest change within the double-submit window raises
    :class:`AlreadyRecorded` and writes nothing."""
    require(actor, Capability.EDIT_MARKETING_FIELDS)
    errors = problems(purpose=purpose, granted=granted, source=source,
                      notice_version=notice_version)
    if errors:
        raise InvalidFields(errors)
    change = {"purpose": purpose, "granted": granted, "source": source,
              "notice_version": notice_version.strip()}
    with write_session(engine) as session:
        _live_customer(session, customer_id)
        # Two submits of one change check and write one after the other (PostgreSQL).
        lock_customers(session, [customer_id])
        if _twin(session, actor, customer_id, change):
            raise AlreadyRecorded(purpose, granted)
        recorder = session.execute(
            select(USER.c.id).where(USER.c.username == actor.username)).scalar()
        event = ConsentEvent(customer_id=customer_id, purpose=purpose, granted=granted,
                             at=utcnow(), source=source, notice_version=notice_version.strip(),
                             recorded_by_user_id=recorder)
        with customers_changed(session, [customer_id]):
            session.add(event)
        trail.record(session, actor=actor.username, action="consent.change", entity="customer",
                     entity_id=customer_id,
                     changes=change, source="form")
        return event


def _twin(session: Session, actor: Actor, customer_id: int, change: dict[str, object]) -> bool:
    """Whether ``actor``'s latest recent change of this purpose was exactly ``change`` (a
    grant, a withdrawal and a grant again within moments are three changes)."""
    for write in recent.recent_writes(session, actor.username, action="consent.change",
                                      entity="customer", entity_id=customer_id):
        if write.changes.get("purpose") == change["purpose"]:
            return write.changes == change
    return False


def _live_customer(session: Session, customer_id: int) -> None:
    if not is_live(session.get(Customer, customer_id)):
        raise CustomerNotFound(f"There is no customer {customer_id}.")
