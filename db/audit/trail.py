"""The audit trail: one call every write path makes inside its own transaction, and its proof.

Because :func:`record` adds the event to the caller's session, the event commits or rolls
back with the change it describes: there is never an event for a write that did not happen,
nor a write without its event.

Tamper evidence: each event stores the hash of the event before it and its own SHA-256 over
a canonical serialisation (:func:`event_hash`). Triggers, made by the migrations, make the
table append-only; an edit made around them (a dropped trigger, a raw file edit) breaks the
chain, and :func:`verify` names the first event that no longer fits. The chain cannot show
that events were removed from its end: keep the newest hash somewhere else (a ticket, an
e-mail) to prove that.

``python -m db.audit verify`` walks the chain from the command line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from db.core.access import Actor, Capability, operator, require
from db.core.engine import get_engine
from db.core.types import utcnow
from db.models import AuditEvent

SOURCES = ("form", "grid", "import", "cli", "api", "login", "system")
GENESIS_HASH = "0" * 64
# Held while an event is chained on PostgreSQL, so two transactions never extend the chain
# from the same event. SQLite needs no lock of its own: a write transaction already holds
# the database's write lock from its first statement (BEGIN IMMEDIATE).
_CHAIN_LOCK_ID = 4_711_0001


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value)


def event_hash(*, prev_hash: str, at: datetime, actor: str, action: str, entity: str,
               entity_id: str | None, changes: str, source: str) -> str:
    """SHA-256 over the event's fields and its predecessor's hash (format version 1).

    The serialisation is a compact JSON array with the timestamp as UTC ISO text to the
    microsecond, which both engines store exactly. Changing it breaks every stored chain.
    """
    canonical = json.dumps(
        [prev_hash, at.astimezone(UTC).isoformat(timespec="microseconds"), actor, action,
         entity, entity_id, changes, source],
        ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _last_hash(session: Session) -> str:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_CHAIN_LOCK_ID)))
    session.flush()  # events added earlier in this transaction come first in the chain
    last = session.execute(
        select(col(AuditEvent.hash)).order_by(col(AuditEvent.id).desc()).limit(1)
    ).scalar_one_or_none()
    return last or GENESIS_HASH


def record(session: Session, *, actor: str, action: str, entity: str,
           entity_id: object | None = None, changes: dict[str, Any] | None = None,
           source: str) -> AuditEvent:
    """Add a chained audit event to ``session``; the caller's commit writes it.

    ``changes`` maps a field to ``[old, new]`` for updates, or holds any facts worth keeping
    (values are stored as JSON; dates and decimals as their text).
    """
    if source not in SOURCES:
        raise ValueError(f"unknown audit source {source!r}")
    payload = {key: ([_jsonable(v) for v in value] if isinstance(value, (list, tuple))
                     else _jsonable(value))
               for key, value in (changes or {}).items()}
    prev_hash = _last_hash(session)
    # Taken after the chain lock, so times rise with ids (the audit search relies on it).
    fields: dict[str, Any] = {
        "at": utcnow(), "actor": actor[:50], "action": action, "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "changes": json.dumps(payload, sort_keys=True, ensure_ascii=False), "source": source,
    }
    event = AuditEvent(**fields, prev_hash=prev_hash,
                       hash=event_hash(prev_hash=prev_hash, **fields))
    session.add(event)
    return event


@dataclass(frozen=True)
class ChainReport:
    """What :func:`verify` found: how many events it checked and the first broken one."""

    checked: int
    broken_id: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def _events_in_order(engine: Engine) -> Iterator[AuditEvent]:
    with Session(engine) as session:
        statement = select(AuditEvent).order_by(col(AuditEvent.id)).execution_options(
            yield_per=5_000)
        for event in session.execute(statement).scalars():
            yield event
            session.expunge(event)


# Walking the chain reads every event ever written: an admin's check. Managers read and
# export the trail (``Capability.VIEW_AUDIT``) but do not run it.
_VERIFIER = Capability.ADMINISTER


def may_verify(actor: Actor) -> bool:
    """Whether ``actor`` may run :func:`verify` (the Audit page asks before offering it)."""
    return actor.can(_VERIFIER)


def verify(actor: Actor, *, engine: Engine | None = None) -> ChainReport:
    """Walk the whole chain in id order and report the first event that does not fit."""
    require(actor, _VERIFIER)
    expected_prev = GENESIS_HASH
    checked = 0
    for event in _events_in_order(engine or get_engine()):
        if event.prev_hash != expected_prev:
            return ChainReport(checked, event.id,
                               "its link to the previous event is broken (an event before it "
                               "was removed or altered)")
        recomputed = event_hash(
            prev_hash=event.prev_hash, at=event.at, actor=event.actor, action=event.action,
            entity=event.entity, entity_id=event.entity_id, changes=event.changes,
            source=event.source)
        if recomputed != event.hash:
            return ChainReport(checked, event.id, "its content was altered after it was written")
        expected_prev = event.hash
        checked += 1
    return ChainReport(checked)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the audit trail's hash chain.")
    parser.add_argument("command", choices=["verify"])
    parser.parse_args(argv)
    report = verify(operator())
    if report.ok:
        print(f"Audit chain intact: {report.checked:,} events verified.")
        return 0
    print(f"Audit chain BROKEN at event {report.broken_id}: {report.reason} "
          f"({report.checked:,} events before it verified).", file=sys.stderr)
    return 1
