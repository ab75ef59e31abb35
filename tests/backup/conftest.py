"""The backup tests run with a known audit key, so none of them creates the checkout's key
file, and chain checks have a key to verify with."""

from __future__ import annotations

import pytest

from tests.audit.conftest import AUDIT_KEY


@pytest.fixture(autouse=True)
def audit_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CUSTDB_AUDIT_KEY", AUDIT_KEY)
    return AUDIT_KEY
