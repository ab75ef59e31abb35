"""Sign-in: no lock held while bcrypt runs, growing delays that answer every username alike,
and passwords checked as they could have been set (NFC, at most 72 bytes)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import unicodedata
from datetime import datetime, timedelta
from typing import Literal

import pytest
from sqlalchemy import Engine, make_url
from sqlmodel import Session, select

from db.core.engine import write_session
from db.core.types import utcnow
from db.models import AuditEvent, User
from db.users import passwords
from db.users import service as users
from db.users.service import MAX_DELAY, SignInDelayed, authenticate, retry_delay, update_user
from tests.factories import ADMIN, user

PASSWORD = "correct-horse-7"
Form = Literal["NFC", "NFD"]


def _user_row(engine: Engine, username: str) -> User:
    with Session(engine) as session:
        row = session.exec(select(User).where(User.username == username)).one()
        return row


def _outcome(engine: Engine, username: str, password: str, now: datetime) -> str:
    """What the person signing in sees: signed in, refused alike, or the refusal's text."""
    try:
        return "signed in" if authenticate(username, password, engine=engine,
                                           now=now) else "incorrect"
    except SignInDelayed as refused:
        return f"{type(refused).__name__}: {refused}"


def _count_bcrypt(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = users.verify_password

    def counting(password: str, password_hash: str) -> bool:
        calls.append(password)
        return real(password, password_hash)

    monkeypatch.setattr(users, "verify_password", counting)
    return calls


# Item 1: the password check holds no database connection and no write lock.

def test_no_transaction_or_write_lock_is_held_while_bcrypt_runs(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    user(engine, "alice", password=PASSWORD)
    seen: list[tuple[int, bool]] = []
    real = users.verify_password

    def watching(password: str, password_hash: str) -> bool:
        seen.append((engine.pool.checkedout(), _other_writer_gets_the_lock(engine)))
        return real(password, password_hash)

    monkeypatch.setattr(users, "verify_password", watching)
    assert authenticate("alice", "wrong-password-1", engine=engine) is None
    assert authenticate("nobody", "wrong-password-1", engine=engine) is None
    assert authenticate("alice", PASSWORD, engine=engine) is not None
    # No connection checked out (so no transaction, on either engine), and on SQLite another
    # connection takes the write lock at once.
    assert seen == [(0, True)] * 3


def _other_writer_gets_the_lock(engine: Engine) -> bool:
    if engine.dialect.name != "sqlite":
        return True
    other = sqlite3.connect(make_url(engine.url).database or "", timeout=0,
                            isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:  # "database is locked"
        return False
    finally:
        other.close()


def test_a_short_write_finishes_while_a_sign_in_checks_its_password(engine: Engine) -> None:
    user(engine, "alice", password=PASSWORD)
    started = threading.Event()
    real = users.verify_password
    finished: list[float] = []

    def slow(password: str, password_hash: str) -> bool:
        started.set()
        time.sleep(1.0)  # a slow bcrypt
        finished.append(time.monotonic())
        return real(password, password_hash)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(users, "verify_password", slow)
        signing_in = threading.Thread(
            target=authenticate, args=("alice", "wrong-password-1"), kwargs={"engine": engine})
        signing_in.start()
        assert started.wait(10)
        with write_session(engine) as session:
            session.add(User(username="bob", display_name="Bob", password_hash="x",
                             role="marketing"))
        written = time.monotonic()
        signing_in.join(10)
    assert finished and written < finished[0] - 0.5


# Item 4: growing delays per username, and the same answer whether the user exists or not.

def test_delays_start_after_three_failures_and_double_up_to_the_cap() -> None:
    assert [retry_delay(n) for n in range(6)] == [timedelta(0)] * 3 + [
        timedelta(seconds=1), timedelta(seconds=2), timedelta(seconds=4)]
    assert retry_delay(12) == timedelta(seconds=512)
    assert retry_delay(13) == retry_delay(1_000) == MAX_DELAY == timedelta(minutes=15)


def test_unknown_and_known_usernames_get_identical_answers(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    user(engine, "alice", password=PASSWORD)
    bcrypt_calls = _count_bcrypt(monkeypatch)
    start = utcnow()
    # The same history for both names: failures as fast as allowed, then too early.
    offsets = [0, 0, 0, 0.5, 1, 1.5, 2.5, 3, 6.5, 7, 30, 31]
    for offset in offsets:
        now = start + timedelta(seconds=offset)
        before = len(bcrypt_calls)
        known = _outcome(engine, "alice", "wrong-password-1", now)
        between = len(bcrypt_calls)
        unknown = _outcome(engine, "nobody", "wrong-password-1", now)
        assert known == unknown, offset
        # The same work too: one bcrypt check each, or none when refused as too early.
        assert len(bcrypt_calls) - between == between - before, offset
    assert known.startswith("SignInDelayed: Too many failed sign-ins")
    assert "nobody" not in unknown and "exist" not in unknown


def test_an_inactive_user_is_answered_like_an_unknown_one(engine: Engine) -> None:
    alice = user(engine, "alice", password=PASSWORD)
    update_user(ADMIN, alice.id, active=False, engine=engine)
    start = utcnow()
    for offset in [0, 0, 0, 0.5, 1, 2.5]:
        now = start + timedelta(seconds=offset)
        assert (_outcome(engine, "alice", PASSWORD, now)
                == _outcome(engine, "nobody", PASSWORD, now)), offset


def test_delays_grow_and_a_refused_attempt_costs_no_bcrypt_and_does_not_count(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    user(engine, "alice", password=PASSWORD)
    bcrypt_calls = _count_bcrypt(monkeypatch)
    now = utcnow()
    for _ in range(3):
        assert _outcome(engine, "alice", "wrong-password-1", now) == "incorrect"
    waits = []
    for failures in range(3, 9):
        delay = retry_delay(failures)
        waits.append(delay.total_seconds())
        calls = len(bcrypt_calls)
        # Too early: refused, even with the right password, without bcrypt and not counted.
        with pytest.raises(SignInDelayed) as refused:
            authenticate("alice", PASSWORD, engine=engine, now=now + delay / 2)
        assert refused.value.until == now + delay and len(bcrypt_calls) == calls
        assert _user_row(engine, "alice").failed_logins == failures
        now += delay
        assert _outcome(engine, "alice", "wrong-password-1", now) == "incorrect"
    assert waits == [1, 2, 4, 8, 16, 32]
    refusals = [json.loads(e.changes) for e in _events(engine, "login.refused")]
    assert len(refusals) == 6 and refusals[0]["reason"] == "too early"


def test_a_success_after_the_delay_signs_in_and_resets_the_count(engine: Engine) -> None:
    alice = user(engine, "alice", password=PASSWORD)
    now = utcnow()
    for _ in range(4):
        authenticate("alice", "wrong-password-1", engine=engine, now=now)
        now += timedelta(seconds=1)
    now += timedelta(seconds=2)
    assert authenticate("alice", PASSWORD, engine=engine, now=now) is not None
    row = _user_row(engine, "alice")
    assert (row.failed_logins, row.locked_until) == (0, None)
    # A typo afterwards costs nothing: the count starts again from zero.
    assert _outcome(engine, "alice", "wrong-password-1", now) == "incorrect"
    assert authenticate("alice", PASSWORD, engine=engine, now=now) is not None
    assert alice.username == "alice"


def test_the_admin_is_never_kept_out_longer_than_the_cap(engine: Engine) -> None:
    user(engine, "root", role="admin", password=PASSWORD)
    now = utcnow()
    for _ in range(40):  # an attacker trying whenever allowed
        assert _outcome(engine, "root", "guess-password-1", now) == "incorrect"
        now += retry_delay(_user_row(engine, "root").failed_logins)
    last_failure = now - MAX_DELAY
    assert _user_row(engine, "root").locked_until == last_failure + MAX_DELAY
    with pytest.raises(SignInDelayed, match="Try again in 15 minutes"):
        authenticate("root", PASSWORD, engine=engine, now=last_failure + timedelta(seconds=1))
    assert authenticate("root", PASSWORD, engine=engine, now=last_failure + MAX_DELAY)


def test_concurrent_failures_are_all_counted(engine: Engine) -> None:
    user(engine, "alice", password=PASSWORD)
    now = utcnow()
    errors: list[BaseException] = []

    def attempt(username: str) -> None:
        try:
            authenticate(username, "wrong-password-1", engine=engine, now=now)
        except SignInDelayed:
            pass
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=attempt, args=(name,))
               for name in ["alice", "nobody"] * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    counted = _user_row(engine, "alice").failed_logins
    # Each attempt either counted or was refused as too early; none was lost.
    refused = [e for e in _events(engine, "login.refused") if e.actor == "alice"]
    assert counted + len(refused) == 4 and counted >= 3


def _events(engine: Engine, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)
                                 .order_by(AuditEvent.id)))


# Item 5: passwords as they could have been set.

def test_a_password_over_72_bytes_is_refused_without_bcrypt(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    longest = "p4ss-" + "x" * 67
    assert len(longest.encode()) == passwords.MAX_PASSWORD_BYTES
    user(engine, "alice", password=longest)
    bcrypt_calls = _count_bcrypt(monkeypatch)
    # bcrypt would see only the first 72 bytes and let this in; it could never have been set.
    assert authenticate("alice", longest + "anything", engine=engine) is None
    assert bcrypt_calls == []
    assert authenticate("alice", longest, engine=engine) is not None
    reasons = [json.loads(e.changes)["reason"] for e in _events(engine, "login.failure")]
    assert reasons == ["password longer than 72 bytes"]


@pytest.mark.parametrize(("set_as", "typed_as"), [("NFD", "NFC"), ("NFC", "NFD")])
def test_passwords_are_compared_in_unicode_nfc(engine: Engine, set_as: Form,
                                               typed_as: Form) -> None:
    password = "Crème brûlée 2026"
    user(engine, "alice", password=unicodedata.normalize(set_as, password))
    typed = unicodedata.normalize(typed_as, password)
    assert authenticate("alice", typed, engine=engine) is not None
    update_user(ADMIN, _user_row(engine, "alice").id or 0,
                new_password=unicodedata.normalize(set_as, "Ångström-Ünïcode 1"), engine=engine)
    assert authenticate("alice", unicodedata.normalize(typed_as, "Ångström-Ünïcode 1"),
                        engine=engine) is not None


def test_the_72_byte_limit_applies_to_the_normalised_password() -> None:
    decomposed = unicodedata.normalize("NFD", "é" * 30) + "-12"  # 93 bytes, NFC 63
    assert len(decomposed.encode()) > passwords.MAX_PASSWORD_BYTES
    assert passwords.password_problems(decomposed) == []
