"""The audit key: generated once, owner-only, refused when weak, read from the environment
first."""

from __future__ import annotations

import secrets
import stat
import threading
from pathlib import Path

import pytest

from db.audit import keys
from tests.audit.conftest import AUDIT_KEY


@pytest.mark.parametrize("weak", [
    "abcdefghijklmnop" * 3,  # long, 16 different letters, but a pattern
    "a" * 60,
    "0123456789" * 5,
    "short-but-random-Zq8",
    "passwordpasswordpasswordpasswordpasswordpassword",
])
def test_weak_keys_are_refused(weak: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(keys.AuditKeyError, match="too weak"):
        keys.check_key(weak)
    monkeypatch.setenv("CUSTDB_AUDIT_KEY", weak)
    with pytest.raises(keys.AuditKeyError, match="too weak"):
        keys.audit_key()


def test_random_keys_pass() -> None:
    for _ in range(2_000):
        for key in (secrets.token_urlsafe(32), secrets.token_hex(32)):
            assert keys.check_key(key) == key


def test_the_environment_comes_first(tmp_path: Path) -> None:
    assert keys.audit_key(path=tmp_path / "never-made.toml") == AUDIT_KEY
    assert not (tmp_path / "never-made.toml").exists()


def test_the_key_file_is_generated_once_owner_only(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUSTDB_AUDIT_KEY")
    path = tmp_path / ".secrets" / "audit_key.toml"
    with pytest.raises(keys.AuditKeyMissing, match="No audit key is configured"):
        keys.audit_key(create=False, path=path)
    found: list[str] = []
    threads = [threading.Thread(target=lambda: found.append(keys.audit_key(path=path)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(found)) == 1 and keys.check_key(found[0])  # one key won, all read it
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keys.audit_key(create=False, path=path) == found[0]
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left


def test_a_key_file_without_a_key_is_an_error(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUSTDB_AUDIT_KEY")
    path = tmp_path / "audit_key.toml"
    path.write_text("# empty\n")
    with pytest.raises(keys.AuditKeyError, match="no audit_key"):
        keys.audit_key(path=path)


def test_the_key_file_is_git_ignored() -> None:
    ignored = (Path(__file__).resolve().parents[2] / ".gitignore").read_text().splitlines()
    assert ".secrets/" in ignored
    assert keys.KEY_FILE.name == "audit_key.toml" and keys.KEY_FILE.parent.name == ".secrets"


def test_the_fingerprint_reveals_nothing_and_tells_keys_apart() -> None:
    assert keys.key_id(AUDIT_KEY) == keys.key_id(AUDIT_KEY)
    assert keys.key_id(AUDIT_KEY) != keys.key_id(AUDIT_KEY + "x")
    assert AUDIT_KEY[:6] not in keys.key_id(AUDIT_KEY)
