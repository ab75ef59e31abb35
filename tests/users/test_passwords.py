"""The production bcrypt cost: the suite hashes at a lower cost (tests/conftest.py), so this
restores the cost the module sets and checks that passwords are hashed at it."""

from __future__ import annotations

import bcrypt
import pytest

from db.users import passwords
from tests.conftest import PRODUCTION_BCRYPT_ROUNDS


def test_the_app_hashes_passwords_at_cost_12(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "BCRYPT_ROUNDS", PRODUCTION_BCRYPT_ROUNDS)
    made = passwords.hash_password("correct horse 42")
    assert made.startswith("$2b$12$")
    assert bcrypt.checkpw(b"correct horse 42", made.encode())
    assert passwords.verify_password("correct horse 42", made)
