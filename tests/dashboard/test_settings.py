"""The cookie key: generated on first run, private, and never weak."""

from __future__ import annotations

import secrets
import stat
from pathlib import Path

import pytest

from dashboard.settings import (
    COOKIE_KEY_ENV,
    InsecureSecret,
    check_cookie_key,
    cookie_key,
    ensure_secrets_file,
)


def test_first_run_generates_a_private_random_key(tmp_path: Path) -> None:
    path = tmp_path / ".streamlit" / "secrets.toml"
    key = ensure_secrets_file(path)
    assert check_cookie_key(key) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_secrets_file(path) == key  # read back, not regenerated
    assert ensure_secrets_file(tmp_path / "other.toml") != key


@pytest.mark.parametrize("weak", ["some_key", "short-key", "a" * 64, "ab" * 30,
                                  "abcdefghijklmnop" * 3])
def test_weak_keys_are_refused_saying_how_to_make_one(weak: str) -> None:
    with pytest.raises(InsecureSecret, match="too weak") as refused:
        check_cookie_key(weak)
    assert 'python -c "import secrets; print(secrets.token_hex(32))"' in str(refused.value)


def test_a_generated_hex_key_is_accepted() -> None:
    key = secrets.token_hex(32)
    assert check_cookie_key(key) == key


def test_environment_key_wins_and_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(COOKIE_KEY_ENV, "x" * 50)
    with pytest.raises(InsecureSecret):
        cookie_key()
    strong = "Vq3kPz9Lr2Xw7Tn5Mb8Hc1Jd6Fg4Ks0Ya-_Ue3Wi9Oo2Qp"
    monkeypatch.setenv(COOKIE_KEY_ENV, strong)
    assert cookie_key({"cookie_key": "ignored"}) == strong


def test_secrets_file_without_a_key_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "secrets.toml"
    path.write_text("other = 1\n")
    with pytest.raises(InsecureSecret, match="no cookie_key"):
        ensure_secrets_file(path)
