"""Duplicate detection as a service on both engines: planted pairs found and stored, the
stored run replaced, "not the same" remembered across runs, roles, and the command."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from db.core.access import PermissionDenied
from db.core.engine import write_session
from db.customers.service import CustomerNotFound, soft_delete_customer
from db.demo.loader import load_demo_data
from db.models import AuditEvent
from db.quality import decisions
from db.quality.__main__ import main
from db.quality.candidates import (
    DEFAULT_THRESHOLD,
    REVIEW_FLOOR,
    candidates,
    find_duplicates,
    last_run,
)
from db.quality.models import DuplicateCandidate, DuplicateDecision, DuplicateRun
from db.quality.plant import plant_into
from tests.factories import ADMIN, MANAGER, MARKETING

PLANTED = 30


@pytest.fixture
def planted(engine: Engine) -> set[tuple[int, int]]:
    """Demo customers with ``PLANTED`` duplicates planted among them; the true pairs."""
    load_demo_data(engine, customers=300, seed=11, as_of=date(2026, 6, 1),
                   orders_per_customer=1)
    return {(min(pair), max(pair)) for pair in plant_into(engine, count=PLANTED, seed=4)}


def _ids(pairs: list) -> set[tuple[int, int]]:
    return {(pair.left_id, pair.right_id) for pair in pairs}


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_planted_duplicates_are_found_stored_and_audited(
        engine: Engine, planted: set[tuple[int, int]]) -> None:
    assert last_run(MANAGER, engine=engine) is None
    run = find_duplicates(MANAGER, engine=engine)
    proposed = _ids(candidates(MANAGER, min_score=DEFAULT_THRESHOLD, engine=engine))
    hits = len(proposed & planted)
    assert hits / len(proposed) >= 0.95 and hits / len(planted) >= 0.95
    assert run.customers == 300 + PLANTED and run.proposed == len(proposed)
    stored = candidates(MANAGER, engine=engine)
    assert len(stored) == run.stored == _count(engine, DuplicateCandidate)
    assert all(pair.score >= REVIEW_FLOOR and pair.reasons for pair in stored)
    assert [pair.score for pair in stored] == sorted((p.score for p in stored), reverse=True)
    assert len(candidates(MANAGER, limit=3, engine=engine)) == 3
    assert last_run(MANAGER, engine=engine) == run
    with Session(engine) as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "quality.duplicates_run")).one()
    assert event.actor == MANAGER.username and f'"proposed": {run.proposed}' in event.changes


def test_a_new_run_replaces_the_stored_one(engine: Engine,
                                           planted: set[tuple[int, int]]) -> None:
    find_duplicates(ADMIN, engine=engine)
    left, right = sorted(planted)[0]
    soft_delete_customer(ADMIN, right, engine=engine)
    assert (left, right) not in _ids(candidates(ADMIN, engine=engine))  # before the next run
    with write_session(engine) as session:  # a stale row the new run must not keep
        session.add(DuplicateCandidate(left_id=1, right_id=2, score=0.99, reasons="stale"))
    second = find_duplicates(ADMIN, engine=engine)
    stored = _ids(candidates(ADMIN, engine=engine))
    assert (left, right) not in stored and (1, 2) not in stored
    assert len(stored) == second.stored == _count(engine, DuplicateCandidate)
    assert _count(engine, DuplicateRun) == 1
    assert second.customers == 300 + PLANTED - 1


def test_not_the_same_sticks_across_runs(engine: Engine,
                                         planted: set[tuple[int, int]]) -> None:
    find_duplicates(MANAGER, engine=engine)
    (left, right), (same_left, same_right) = sorted(planted)[:2]
    decisions.mark(MANAGER, right, left, same=False, engine=engine)  # either order
    decisions.mark(MANAGER, same_left, same_right, same=True, engine=engine)
    assert (left, right) not in _ids(candidates(MANAGER, engine=engine))
    for _ in range(2):
        find_duplicates(MANAGER, engine=engine)
        stored = _ids(candidates(MANAGER, engine=engine))
        assert (left, right) not in stored
        assert (same_left, same_right) in stored  # still a duplicate until merged
    with Session(engine) as session:
        verdict = session.get(DuplicateDecision, (left, right))
        marked = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "quality.duplicate_marked")).all()
    assert verdict is not None and verdict.same is False
    assert verdict.decided_by == MANAGER.username and len(marked) == 2


def test_mark_refuses_a_pair_with_itself_or_a_missing_customer(
        engine: Engine, planted: set[tuple[int, int]]) -> None:
    left, right = sorted(planted)[0]
    with pytest.raises(decisions.SamePerson):
        decisions.mark(ADMIN, left, left, same=False, engine=engine)
    soft_delete_customer(ADMIN, right, engine=engine)
    with pytest.raises(CustomerNotFound):
        decisions.mark(ADMIN, left, right, same=False, engine=engine)
    assert _count(engine, DuplicateDecision) == 0


def test_forget_customer_drops_their_pairs_in_the_callers_transaction(
        engine: Engine, planted: set[tuple[int, int]]) -> None:
    find_duplicates(ADMIN, engine=engine)
    right = sorted(planted)[0][1]
    before = _count(engine, DuplicateCandidate)
    with write_session(engine) as session:
        assert decisions.forget_customer(session, right) >= 1
    remaining = _ids(candidates(ADMIN, engine=engine))
    assert all(right not in pair for pair in remaining)
    assert len(remaining) < before


def test_marketing_is_refused(engine: Engine) -> None:
    for call in (lambda: find_duplicates(MARKETING, engine=engine),
                 lambda: candidates(MARKETING, engine=engine),
                 lambda: last_run(MARKETING, engine=engine),
                 lambda: decisions.mark(MARKETING, 1, 2, same=False, engine=engine)):
        with pytest.raises(PermissionDenied):
            call()
    assert _count(engine, DuplicateRun) == 0


def test_the_command_runs_a_detection_and_prints_pairs_with_reasons(
        engine: Engine, database_url: str, planted: set[tuple[int, int]],
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["duplicates", "--limit", "5"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 5
    score, left, right, reasons = lines[0].split("\t")
    assert float(score) >= DEFAULT_THRESHOLD and int(left) < int(right) and reasons
    assert "proposed" in captured.err
    assert last_run(ADMIN, engine=engine) is not None
    assert main(["duplicates", "--min-score", "1.5"]) == 2
    assert main(["duplicates", "--min-score", "0.999999", "--limit", "0"]) == 0


def test_the_same_verdict_given_again_records_nothing(
        engine: Engine, planted: set[tuple[int, int]]) -> None:
    left, right = sorted(planted)[0]
    for _ in range(2):  # a double click on "Same person, merge later"
        decisions.mark(MANAGER, left, right, same=True, engine=engine)
    with Session(engine) as session:
        marked = session.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "quality.duplicate_marked")).scalar_one()
    assert marked == 1
    decisions.mark(MANAGER, left, right, same=False, engine=engine)  # a change is recorded
    assert _count(engine, AuditEvent) > 0
