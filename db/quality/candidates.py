"""Duplicate detection as a service: run it, store the run, read the stored pairs.

:func:`find_duplicates` scores the live customers (:mod:`db.quality.matching`) and stores
every pair at or above :data:`REVIEW_FLOOR` in ``duplicate_candidate``, replacing the
previous run's, with the run's figures in ``duplicate_run``; the review page reads them with
:func:`candidates` and :func:`last_run` and never recomputes on open. Pairs a reviewer marked
"not the same" (:mod:`db.quality.decisions`) are left out of every later run.

Reading and scoring happen outside the write transaction (they take seconds on a large
database, and other writers should not wait for them); the write — delete the old pairs,
insert the new, record the run and its audit event (``quality.duplicates_run``) — is one
short transaction, which reads the "not the same" verdicts again, so a verdict given while
the run was scoring still holds.

Detecting and reading need :attr:`Capability.EDIT_CUSTOMER` (admin, manager): the pairs are
the first step of a merge, which edits customers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, exists, select
from sqlmodel import Session, col

from db.audit import trail
from db.core.access import Actor, Capability, require
from db.core.engine import get_engine, read_session, write_session
from db.core.sql import table_of
from db.models import Customer, live
from db.quality.matching import DEFAULT_THRESHOLD, REVIEW_FLOOR, Pair, Person, find_pairs
from db.quality.models import DuplicateCandidate, DuplicateDecision, DuplicateRun

__all__ = ["DEFAULT_LIMIT", "DEFAULT_THRESHOLD", "REVIEW_FLOOR", "DetectionRun", "Pair",
           "candidates", "find_duplicates", "last_run"]

DEFAULT_LIMIT = 500
_REASON_SEPARATOR = "\n"


@dataclass(frozen=True)
class DetectionRun:
    """What one detection did: when, by whom, how long, and its counts."""

    found_at: datetime
    found_by: str
    seconds: float
    customers: int  # live customers compared
    compared: int  # candidate pairs scored
    stored: int  # pairs at or above REVIEW_FLOOR, kept for review
    proposed: int  # pairs at or above DEFAULT_THRESHOLD
    skipped_blocks: int  # blocks too large to compare pair by pair

    def counts(self) -> dict[str, int]:
        return {"customers": self.customers, "compared": self.compared, "stored": self.stored,
                "proposed": self.proposed, "skipped_blocks": self.skipped_blocks}


def _run_of(row: DuplicateRun) -> DetectionRun:
    return DetectionRun(found_at=row.found_at, found_by=row.found_by, seconds=row.seconds,
                        customers=row.customers, compared=row.compared, stored=row.stored,
                        proposed=row.proposed, skipped_blocks=row.skipped_blocks)


def live_people(engine: Engine) -> list[Person]:
    """Every live customer as a :class:`Person`, in id order."""
    columns = table_of(Customer).c
    query = select(*(columns[name] for name in Person._fields)).where(live()) \
        .order_by(columns.id)
    with engine.connect() as connection:
        return [Person(*row) for row in connection.execute(query)]


def rejected_pairs(session: Session) -> frozenset[tuple[int, int]]:
    """The pairs a reviewer marked "not the same"."""
    columns = table_of(DuplicateDecision).c
    return frozenset((left, right) for left, right in session.execute(
        select(columns.left_id, columns.right_id).where(columns.same.is_(False))))


def find_duplicates(actor: Actor, *, engine: Engine | None = None) -> DetectionRun:
    """Score the live customers, store the pairs at or above :data:`REVIEW_FLOOR` in place of
    the previous run's, and return the run's figures. Audited (``quality.duplicates_run``)."""
    require(actor, Capability.EDIT_CUSTOMER)
    engine = engine or get_engine()
    started = time.perf_counter()
    # Live = not deleted, not erased (db.models.live); a merged record will be neither live.
    people = live_people(engine)
    with read_session(engine) as session:
        rejected = rejected_pairs(session)
    found = find_pairs(people, floor=REVIEW_FLOOR, exclude=rejected)
    candidate = table_of(DuplicateCandidate)
    with write_session(engine) as session:
        rejected = rejected_pairs(session)
        pairs = [pair for pair in found.pairs if (pair.left_id, pair.right_id) not in rejected]
        session.execute(delete(candidate))
        session.execute(delete(table_of(DuplicateRun)))
        if pairs:
            session.execute(candidate.insert(), [
                {"left_id": pair.left_id, "right_id": pair.right_id, "score": pair.score,
                 "reasons": _REASON_SEPARATOR.join(pair.reasons)[:1000]} for pair in pairs])
        proposed = sum(pair.score >= DEFAULT_THRESHOLD for pair in pairs)
        row = DuplicateRun(found_by=actor.username, seconds=0.0, customers=len(people),
                           compared=found.compared, stored=len(pairs), proposed=proposed,
                           skipped_blocks=found.skipped_blocks)
        row.seconds = round(time.perf_counter() - started, 3)
        session.add(row)
        run = _run_of(row)
        trail.record(session, actor=actor.username, action="quality.duplicates_run",
                     entity="duplicate_run", changes=run.counts() | {
                         "seconds": run.seconds, "threshold": DEFAULT_THRESHOLD,
                         "floor": REVIEW_FLOOR},
                     source="cli" if actor.username.startswith("cli:") else "form")
    return run


def candidates(actor: Actor, *, min_score: float | None = None, limit: int = DEFAULT_LIMIT,
               engine: Engine | None = None) -> list[Pair]:
    """The stored run's pairs scoring at least ``min_score`` (``None``: every stored pair,
    :data:`REVIEW_FLOOR` and up), best first, at most ``limit``; pairs naming a customer who
    is no longer live (deleted or erased since the run) are left out."""
    require(actor, Capability.EDIT_CUSTOMER)
    customer = table_of(Customer).c
    pair = table_of(DuplicateCandidate).c
    query = select(DuplicateCandidate).where(*(  # a customer deleted since the run drops out
        exists().where(customer.id == side, live()) for side in (pair.left_id, pair.right_id)
    )).order_by(
        col(DuplicateCandidate.score).desc(), col(DuplicateCandidate.left_id),
        col(DuplicateCandidate.right_id)).limit(max(0, limit))
    if min_score is not None:
        query = query.where(col(DuplicateCandidate.score) >= min_score)
    with read_session(engine) as session:
        return [Pair(row.left_id, row.right_id, row.score,
                     tuple(row.reasons.split(_REASON_SEPARATOR)) if row.reasons else ())
                for row in session.scalars(query)]


def last_run(actor: Actor, engine: Engine | None = None) -> DetectionRun | None:
    """The stored run's figures, or ``None`` before the first run."""
    require(actor, Capability.EDIT_CUSTOMER)
    with read_session(engine) as session:
        row = session.scalars(select(DuplicateRun).order_by(
            col(DuplicateRun.found_at).desc()).limit(1)).first()
        return None if row is None else _run_of(row)
