"""The audit key: the secret that keys the audit trail's hash chain, kept outside the database.

Like the cookie key, it comes from the environment (``CUSTDB_AUDIT_KEY``, read by
:mod:`db.core.settings`) or, when that is unset, from a git-ignored, owner-only file in a
folder of its own (:data:`KEY_FILE`; not ``data/``, which holds the database), which
:func:`audit_key` generates with 32 random bytes the first time an event is written. A
weak key is refused by the same estimate of its randomness as the cookie key
(:mod:`db.core.keys`; ``abcdefghijklmnop`` three times is refused).

Whoever holds this key and can write the database can forge events that verify; whoever has
only the database cannot. Keep it out of backups of the database and out of git.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import tempfile
import tomllib
from pathlib import Path

from db.core.keys import key_weakness, new_key
from db.core.settings import AUDIT_KEY_ENV, PROJECT_ROOT, read_settings

KEY_FILE = PROJECT_ROOT / ".secrets" / "audit_key.toml"
_KEY_ID_LABEL = b"custdb audit key id"


class AuditKeyError(RuntimeError):
    """No usable audit key: missing where it must not be generated, or too weak.

    Not evidence of tampering: the message says what to configure."""


class AuditKeyMissing(AuditKeyError):
    """No audit key is configured (and none was to be generated)."""


def check_key(key: str) -> str:
    """Return ``key`` if it is strong enough to key the chain (the rule of
    :mod:`db.core.keys`, which the cookie key meets too); raise otherwise."""
    weakness = key_weakness(key)
    if weakness is not None:
        raise AuditKeyError(
            f"The audit key is too weak: {weakness}. Use e.g. "
            "python -c 'import secrets; print(secrets.token_hex(32))' "
            f"(set {AUDIT_KEY_ENV}, or delete {KEY_FILE.name} before any event is written "
            "to have one generated).")
    return key


def _read_file(path: Path) -> str | None:
    if not path.exists():
        return None
    key = tomllib.loads(path.read_text()).get("audit_key")
    if not key:
        raise AuditKeyError(f"{path} exists but has no audit_key.")
    return str(key)


def _generate_file(path: Path) -> str:
    """Write a new random key to ``path`` unless another process got there first.

    The file appears complete or not at all (written aside, then linked into place), so a
    concurrent reader never sees it half-written, and only one key ever wins."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = new_key()
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".audit_key.")  # mode 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write("# Keys the audit trail's hash chain. Generated on first use; keep it\n"
                         "# private, out of git and out of database backups. Losing it means\n"
                         "# the events written with it can no longer be verified.\n")
            handle.write(f'audit_key = "{key}"\n')
        with contextlib.suppress(FileExistsError):  # another process's key won
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return str(_read_file(path))


def audit_key(*, create: bool = True, path: Path | None = None) -> str:
    """The validated audit key: the environment's, else the key file's.

    With ``create`` (writing events) a missing file is generated; without it (verifying) a
    missing key raises :class:`AuditKeyError`, since a new key could verify nothing."""
    path = path or KEY_FILE
    key = read_settings().audit_key or _read_file(path)
    if key is None:
        if not create:
            raise AuditKeyMissing(
                f"No audit key is configured (neither {AUDIT_KEY_ENV} nor {path}): the keyed "
                "events cannot be checked. Restore the key they were written with.")
        key = _generate_file(path)
    return check_key(key)


def key_id(key: str) -> str:
    """A short public fingerprint of ``key`` (it reveals nothing of the key), so a report can
    tell a wrong key from an altered event."""
    return hmac.new(key.encode(), _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]
