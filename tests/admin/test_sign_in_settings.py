"""The sign-in delays follow the settings an admin stored, for accounts and unknown names
alike, and from the next failure on."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from db.admin import settings
from db.users.service import SignInDelayed, authenticate, list_users, retry_delay
from tests.factories import ADMIN, user

PASSWORD = "correct-horse-7"


def test_retry_delay_takes_the_policy_as_parameters() -> None:
    assert retry_delay(0, after=1, longest=timedelta(minutes=1)) == timedelta(0)
    assert [retry_delay(n, after=1, longest=timedelta(minutes=1)).total_seconds()
            for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert retry_delay(2, after=5, longest=timedelta(minutes=1)) == timedelta(0)
    assert retry_delay(10_000, after=1, longest=timedelta(minutes=1)) == timedelta(minutes=1)


def _answered_before_delayed(engine: Engine, username: str, now: datetime) -> int:
    """How many wrong passwords at the same instant are heard before one is refused."""
    for heard in range(20):
        try:
            assert authenticate(username, "wrong-password-1", engine=engine, now=now) is None
        except SignInDelayed:
            return heard
    raise AssertionError("never delayed")


@pytest.mark.parametrize("username", ["alice", "nobody"])
def test_delays_start_after_the_stored_number_of_failures(engine: Engine,
                                                         username: str) -> None:
    user(engine, "alice", password=PASSWORD)
    settings.update(ADMIN, {"sign_in_delay_after": 5}, engine=engine)
    now = datetime(2026, 1, 1).astimezone()
    assert _answered_before_delayed(engine, username, now) == 5


def test_the_longest_delay_follows_the_setting(engine: Engine) -> None:
    user(engine, "alice", password=PASSWORD)
    settings.update(ADMIN, {"sign_in_delay_after": 1, "longest_sign_in_delay_minutes": 1},
                    engine=engine)
    now = datetime(2026, 1, 1).astimezone()
    waits = []
    for _ in range(9):  # an attacker trying whenever allowed
        assert authenticate("alice", "guess-password-1", engine=engine, now=now) is None
        alice = next(u for u in list_users(ADMIN, engine=engine) if u.username == "alice")
        assert alice.locked_until is not None
        waits.append((alice.locked_until - now).total_seconds())
        now = alice.locked_until
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    with pytest.raises(SignInDelayed, match="Try again in 60 seconds"):
        authenticate("alice", PASSWORD, engine=engine, now=now - timedelta(minutes=1))
    assert authenticate("alice", PASSWORD, engine=engine, now=now) is not None
