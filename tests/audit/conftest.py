"""The audit tests run with a known audit key from the environment, so none of them
depends on (or creates) the key file of the checkout."""

from __future__ import annotations

import pytest

AUDIT_KEY = "audit-test-key-Vq3xN8pL2mZ7rT5wK9yB4cF6hJ1dS0gA"
OTHER_KEY = "another-audit-key-Hk2Lp9Qw4Ez7Rt1Yu6Io3Pa8Sd5Fg0J"


@pytest.fixture(autouse=True)
def audit_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CUSTDB_AUDIT_KEY", AUDIT_KEY)
    return AUDIT_KEY
