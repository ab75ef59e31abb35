"""The audit trail: one call every write path makes inside its own transaction, and its proof.

Because :func:`record` adds the event to the caller's session, the event commits or rolls
back with the change it describes: there is never an event for a write that did not happen,
nor a write without its event.

Tamper evidence. Each event stores the hash of the event before it and its own: an
HMAC-SHA256 over a canonical serialisation (:func:`keyed_hash`) with the audit key, which
lives outside the database (:mod:`db.audit.keys`). Events written before the key existed
carry a plain SHA-256 of the same serialisation (:func:`event_hash`, "unkeyed"); they may
only form the start of the chain, and the first keyed event, whose HMAC covers the last
unkeyed hash, seals them. Triggers made by the migrations refuse UPDATE, DELETE and any
insert that is not a true append (REPLACE, an old id, a wrong predecessor). So someone who
can write the database but lacks the key cannot edit, re-hash, insert or append an event
without :func:`verify` naming it; cutting events from the end, or replacing the whole
chain, shows only against an anchor (:mod:`db.audit.anchor`) kept elsewhere. Whoever holds
both the database and the key can forge anything.

``python -m db.audit verify [--anchor FILE]`` walks the chain from the command line;
``python -m db.audit anchor [--out FILE]`` writes an anchor of its newest event.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import itertools
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Engine, func, insert, select
from sqlmodel import Session, col

from db.audit import anchor as anchors
from db.audit import details, keys
from db.core.access import Actor, Capability, operator, require
from db.core.engine import get_engine
from db.core.sql import table_of
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


def _canonical(*, prev_hash: str, at: datetime, actor: str, action: str, entity: str,
               entity_id: str | None, changes: str, source: str) -> bytes:
    """A compact JSON array with the timestamp as UTC ISO text to the microsecond, which
    both engines store exactly. Changing it breaks every stored chain."""
    return json.dumps(
        [prev_hash, at.astimezone(UTC).isoformat(timespec="microseconds"), actor, action,
         entity, entity_id, changes, source],
        ensure_ascii=False, separators=(",", ":"),
    ).encode()


def event_hash(**fields: Any) -> str:
    """The unkeyed hash: SHA-256 over the event's fields and its predecessor's hash, which
    events written before the audit key carry (format 1). Anyone can compute it."""
    return hashlib.sha256(_canonical(**fields)).hexdigest()


def keyed_hash(key: str, **fields: Any) -> str:
    """The keyed hash every event gets now: HMAC-SHA256 with the audit key (format 2)."""
    return hmac.new(key.encode(), _canonical(**fields), hashlib.sha256).hexdigest()


def _last_hash(session: Session) -> str:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_CHAIN_LOCK_ID)))
    session.flush()  # events added earlier in this transaction come first in the chain
    last = session.execute(
        select(col(AuditEvent.hash)).order_by(col(AuditEvent.id).desc()).limit(1)
    ).scalar_one_or_none()
    return last or GENESIS_HASH


class StoredEvent(NamedTuple):
    """An event as :func:`verify` reads it: plain values, cheaper than ORM objects."""

    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    changes: str
    source: str
    prev_hash: str
    hash: str
    changes_digest: str | None
    salt: str | None


def _fields(event: AuditEvent | StoredEvent) -> dict[str, Any]:
    """What the event's hash covers: sealed details by their digest (:mod:`.details`)."""
    return {"prev_hash": event.prev_hash, "at": event.at, "actor": event.actor,
            "action": event.action, "entity": event.entity, "entity_id": event.entity_id,
            "changes": details.chained(event.changes, event.changes_digest),
            "source": event.source}


def _key_for_writing(session: Session) -> str:
    """The audit key; generated when there is none and no event has been keyed yet.

    When keyed events exist but the key is gone, a new key would fork the chain into two
    that no single key verifies: refuse, and say to restore the key."""
    try:
        return keys.audit_key(create=False)
    except keys.AuditKeyMissing:
        newest = session.execute(
            select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(1)).scalar_one_or_none()
        if newest is not None and event_hash(**_fields(newest)) != newest.hash:
            raise keys.AuditKeyMissing(
                "The audit key is missing, but the audit trail holds events written with a "
                f"key: restore it (set {keys.AUDIT_KEY_ENV} or restore {keys.KEY_FILE}) "
                "before anything is written.") from None
        return keys.audit_key(create=True)


class Event(NamedTuple):
    """One event to record: what :func:`record` takes, for :func:`record_many`."""

    action: str
    entity: str
    entity_id: object | None
    changes: dict[str, Any]


def _payload(changes: dict[str, Any] | None) -> str:
    payload = {key: ([_jsonable(v) for v in value] if isinstance(value, (list, tuple))
                     else _jsonable(value))
               for key, value in (changes or {}).items()}
    return json.dumps(payload, sort_keys=True, ensure_ascii=False)


def record(session: Session, *, actor: str, action: str, entity: str,
           entity_id: object | None = None, changes: dict[str, Any] | None = None,
           source: str) -> AuditEvent:
    """Add a chained audit event to ``session``; the caller's commit writes it.

    ``changes`` maps a field to ``[old, new]`` for updates, or holds any facts worth keeping
    (values are stored as JSON; dates and decimals as their text). The first event ever
    written without ``CUSTDB_AUDIT_KEY`` generates the key file.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown audit source {source!r}")
    key = _key_for_writing(session)  # read before the chain lock, to hold that briefly
    prev_hash = _last_hash(session)
    # Taken after the chain lock, so times rise with ids (the audit search relies on it).
    fields: dict[str, Any] = {
        "at": utcnow(), "actor": actor[:50], "action": action, "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "changes": _payload(changes), "source": source,
    }
    salt, digest = details.seal(fields["changes"])
    link = keyed_hash(key, prev_hash=prev_hash,
                      **{**fields, "changes": details.chained(fields["changes"], digest)})
    event = AuditEvent(**fields, prev_hash=prev_hash, hash=link, changes_digest=digest,
                       salt=salt)
    session.add(event)
    return event


def record_many(session: Session, events: Iterable[Event], *, actor: str, source: str) -> int:
    """Chain and write many events in one statement (an import's event per customer);
    returns how many. The same events as :func:`record` one by one, without an ORM object
    and a query per event: 100,000 of those took longer than the import they describe."""
    if source not in SOURCES:
        raise ValueError(f"unknown audit source {source!r}")
    key = _key_for_writing(session)
    prev_hash = _last_hash(session)
    at = utcnow()
    rows = []
    for event in events:
        fields: dict[str, Any] = {
            "at": at, "actor": actor[:50], "action": event.action, "entity": event.entity,
            "entity_id": None if event.entity_id is None else str(event.entity_id),
            "changes": _payload(event.changes), "source": source,
        }
        salt, digest = details.seal(fields["changes"])
        chained = keyed_hash(key, prev_hash=prev_hash,
                             **{**fields, "changes": details.chained(fields["changes"], digest)})
        rows.append({**fields, "prev_hash": prev_hash, "hash": chained,
                     "changes_digest": digest, "salt": salt})
        prev_hash = chained
    if rows:
        session.execute(insert(table_of(AuditEvent)), rows)  # Core: no ORM work per row
    return len(rows)


@dataclass(frozen=True)
class ChainReport:
    """What :func:`verify` found.

    ``broken_id``/``reason``: tampering (``broken_id`` is None when only the anchor itself
    is forged). ``unusable``: the check could not judge (no key, another key, unreadable
    anchor) — not evidence of tampering. ``unkeyed``: events at the start of the chain that
    carry no key (written before the audit key existed); ``keyed``: the rest.
    """

    checked: int
    broken_id: int | None = None
    reason: str | None = None
    unusable: str | None = None
    unkeyed: int = 0
    keyed: int = 0
    redacted: int = 0  # events whose details an erasure removed (the chain still holds)
    anchored: anchors.Anchor | None = None  # the anchor the chain was found to hold
    newest: StoredEvent | None = None  # the newest event verified

    @property
    def ok(self) -> bool:
        return self.reason is None and self.unusable is None


def _events_in_order(engine: Engine) -> Iterator[StoredEvent]:
    table = table_of(AuditEvent)
    columns = [table.c[name] for name in StoredEvent._fields]
    with engine.connect() as connection:
        rows = connection.execute(select(*columns).order_by(table.c.id).execution_options(
            yield_per=5_000))
        for row in rows:
            yield StoredEvent(*row)


# Walking the chain reads every event ever written: an admin's check. Managers read and
# export the trail (``Capability.VIEW_AUDIT``) but do not run it.
_VERIFIER = Capability.ADMINISTER


def may_verify(actor: Actor) -> bool:
    """Whether ``actor`` may run :func:`verify` and take anchors (the Audit page asks)."""
    return actor.can(_VERIFIER)


@dataclass
class _Walk:
    """The state of one walk along the chain."""

    key: str | None
    anchor: anchors.Anchor | None
    key_problem: str = ""  # why ``key`` is None
    checked: int = 0
    unkeyed: int = 0
    keyed: int = 0
    anchor_held: bool = False
    newest: StoredEvent | None = None
    redacted: set[int] = field(default_factory=set)  # events whose details were erased
    listed: set[int] = field(default_factory=set)  # ... and those an erasure event names

    def report(self, **found: Any) -> ChainReport:
        return ChainReport(self.checked, unkeyed=self.unkeyed, keyed=self.keyed,
                           redacted=len(self.redacted),
                           anchored=self.anchor if self.anchor_held else None,
                           newest=self.newest, **found)

    def wrong_key(self, rest: Iterator[StoredEvent]) -> bool:
        """Whether no event from here on verifies with the key: then the key is not the
        one they were written with (an attacker without it cannot make any of them fit)."""
        assert self.key is not None
        key = self.key
        return not any(hmac.compare_digest(keyed_hash(key, **_fields(e)), e.hash)
                       for e in rest)


def _mismatch(walk: _Walk, event: StoredEvent, rest: Iterator[StoredEvent]) -> ChainReport:
    """The report for an event whose hash fits neither rule."""
    if walk.key is None:
        return walk.report(unusable=f"Event {event.id} is keyed, but it cannot be checked: "
                           f"{walk.key_problem}")
    if walk.keyed == 0 and walk.wrong_key(itertools.chain([event], rest)):
        return walk.report(unusable=(
            f"No event from {event.id} on verifies with the configured audit key "
            f"(fingerprint {keys.key_id(walk.key)}): it is not the key they were written "
            "with (restore that one), or every one of them was altered."))
    return walk.report(broken_id=event.id,
                       reason="its content was altered after it was written")


def _walk(walk: _Walk, events: Iterator[StoredEvent]) -> ChainReport:
    expected_prev = GENESIS_HASH
    for event in events:
        if event.prev_hash != expected_prev:
            return walk.report(broken_id=event.id, reason=(
                "its link to the previous event is broken (an event before it was removed "
                "or altered, or it was inserted)"))
        canonical = _canonical(**_fields(event))
        # Unkeyed events only ever come first: try the rule the previous event followed.
        if not walk.keyed and hashlib.sha256(canonical).hexdigest() == event.hash:
            walk.unkeyed += 1
        elif walk.key and hmac.compare_digest(
                hmac.new(walk.key.encode(), canonical, hashlib.sha256).hexdigest(), event.hash):
            walk.keyed += 1
        elif walk.keyed and hashlib.sha256(canonical).hexdigest() == event.hash:
            return walk.report(broken_id=event.id, reason=(
                "it carries no key although keyed events precede it: it was forged or "
                "re-hashed by someone without the audit key"))
        else:
            return _mismatch(walk, event, events)
        if not details.intact(event):
            return walk.report(broken_id=event.id,
                               reason="its details were altered after it was written")
        if event.changes_digest is not None and event.salt is None:
            walk.redacted.add(event.id)
        elif event.salt is not None:
            walk.listed.update(details.listed_redactions(event.action, event.changes))
        if walk.anchor and event.id == walk.anchor.event_id:
            if event.hash != walk.anchor.hash:
                return walk.report(broken_id=event.id, reason=(
                    "it is not the event the anchor names (same id, other hash): the chain "
                    "was rewritten from here or earlier"))
            walk.anchor_held = True
        expected_prev = event.hash
        walk.checked += 1
        walk.newest = event
    if unlisted := walk.redacted - walk.listed:
        return walk.report(broken_id=min(unlisted), reason=(
            "its details were removed, but no erasure lists it"))
    if walk.anchor and not walk.anchor_held:
        named = f"the anchor names event {walk.anchor.event_id} of {walk.anchor.at}"
        if walk.newest and walk.newest.id > walk.anchor.event_id:
            return walk.report(broken_id=walk.anchor.event_id,
                               reason=f"{named}, and the chain no longer holds it")
        ends = f"event {walk.newest.id}" if walk.newest else "no event (it is empty)"
        return walk.report(broken_id=walk.anchor.event_id, reason=(
            f"{named}, but the chain ends at {ends}: events were cut from its end"))
    return walk.report()


def verify(actor: Actor, *, engine: Engine | None = None,
           anchor: str | None = None) -> ChainReport:
    """Walk the whole chain in id order and report the first event that does not fit.

    With ``anchor`` (an anchor's text), also check that the chain still holds the event it
    names, unchanged: this is what shows events cut from the end.
    """
    require(actor, _VERIFIER)
    key_problem = ""
    try:
        key: str | None = keys.audit_key(create=False)
    except keys.AuditKeyError as error:
        if anchor is not None:
            return ChainReport(0, unusable=str(error))
        key, key_problem = None, str(error)
    pinned = None
    if anchor is not None:
        assert key is not None
        try:
            pinned = anchors.parse(anchor, key)
        except anchors.AnchorForged as error:
            return ChainReport(0, reason=str(error))
        except anchors.AnchorError as error:
            return ChainReport(0, unusable=str(error))
    return _walk(_Walk(key, pinned, key_problem), _events_in_order(engine or get_engine()))


class AnchorRefused(RuntimeError):
    """No anchor was taken: the chain is empty or does not verify (``report`` says why)."""

    def __init__(self, report: ChainReport) -> None:
        self.report = report
        super().__init__(describe(report) if not report.ok else
                         "The audit trail is empty: there is nothing to anchor yet.")


def take_anchor(actor: Actor, *, engine: Engine | None = None) -> anchors.Anchor:
    """A signed anchor of the newest event, after the whole chain verified up to it.

    Raises :class:`AnchorRefused` rather than pin a chain that does not verify."""
    report = verify(actor, engine=engine)
    if not report.ok or report.newest is None:
        raise AnchorRefused(report)
    newest = report.newest
    return anchors.sign(keys.audit_key(create=False), event_id=newest.id,
                        event_hash=newest.hash, at=newest.at, taken_at=utcnow())


def describe(report: ChainReport) -> str:
    """One paragraph for an admin: what the check found and what it proves."""
    if report.unusable:
        return f"The chain was NOT checked: {report.unusable}"
    if report.reason and report.broken_id is None:
        return f"The anchor is not valid: {report.reason}"
    if report.reason:
        return (f"The chain is BROKEN at event {report.broken_id}: {report.reason} "
                f"({report.checked:,} events before it verified).")
    lines = [f"The chain is intact: {report.checked:,} events verified."]
    if report.unkeyed and report.keyed:
        lines.append(f"The first {report.unkeyed:,} predate the audit key; the keyed event "
                     "after them seals them.")
    elif report.unkeyed:
        lines.append("None of them is keyed: they predate the audit key, or someone "
                     "without the key rewrote the whole chain; only an anchor proves them.")
    if report.redacted:
        lines.append(f"Erasures removed the details of {report.redacted:,} of them; each "
                     "is listed by its erasure.")
    if report.anchored:
        lines.append(f"It still holds the anchored event {report.anchored.event_id} of "
                     f"{report.anchored.at} unchanged: no event up to it was cut or "
                     "rewritten.")
    else:
        lines.append("Events cut from the end show only against an anchor.")
    return " ".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``verify [--anchor FILE]``: exit 0 intact, 1 tampering found, 2 could not judge.
    ``anchor [--out FILE]``: print or write an anchor of the newest event."""
    parser = argparse.ArgumentParser(description="Check or anchor the audit trail's chain.")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("verify", help="walk the chain (and check it against an anchor)")
    check.add_argument("--anchor", type=Path, help="an anchor file written by 'anchor'")
    take = sub.add_parser("anchor", help="write a signed anchor of the newest event")
    take.add_argument("--out", type=Path, help="write it to this file (default: print it)")
    args = parser.parse_args(argv)
    try:
        if args.command == "anchor":
            text = take_anchor(operator()).to_text()
            if args.out:
                args.out.write_text(text + "\n")
                print(f"Anchor written to {args.out}; keep it where the database's writers "
                      "cannot change it.")
            else:
                print(text)
            return 0
        report = verify(operator(), anchor=args.anchor.read_text() if args.anchor else None)
    except (AnchorRefused, keys.AuditKeyError, OSError) as error:
        print(error, file=sys.stderr)
        return 2
    print(describe(report), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else (2 if report.unusable else 1)
