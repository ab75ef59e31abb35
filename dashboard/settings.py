"""Secrets the app needs at start, generated locally on first run and never committed.

The environment's key (``CUSTDB_COOKIE_KEY``) comes through :mod:`db.core.settings`, the one
reader of the environment.

The sign-in cookie is a JWT signed with ``cookie_key``; whoever knows the key can mint a
cookie for any user, so the app refuses to start with a key that is short, published or
guessable by its estimated entropy (:mod:`db.core.keys`).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from db.core.keys import HOW_TO_MAKE_ONE, key_weakness, new_key
from db.core.settings import COOKIE_KEY_ENV, PROJECT_ROOT, read_settings

SECRETS_FILE = PROJECT_ROOT / ".streamlit" / "secrets.toml"


class InsecureSecret(RuntimeError):
    """A configured secret is too weak to run with."""


def check_cookie_key(key: str) -> str:
    """Return ``key`` if :func:`db.core.keys.key_weakness` finds nothing; raise otherwise."""
    if weakness := key_weakness(key):
        raise InsecureSecret(
            f"The cookie key is too weak: {weakness}. Make one with {HOW_TO_MAKE_ONE} and set "
            f"{COOKIE_KEY_ENV} to it, or delete {SECRETS_FILE.name} to have one generated."
        )
    return key


def ensure_secrets_file(path: Path = SECRETS_FILE) -> str:
    """The cookie key from ``path``, writing a new random one there if the file has none."""
    if path.exists():
        key = tomllib.loads(path.read_text()).get("cookie_key")
        if key:
            return str(key)
        raise InsecureSecret(f"{path} exists but has no cookie_key.")
    key = new_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("# Generated on first run; keep private, never commit.\n")
        handle.write(f'cookie_key = "{key}"\n')
    return key


def cookie_key(secrets_from_streamlit: dict | None = None) -> str:
    """The validated cookie key: environment first, then Streamlit secrets, then the file."""
    key = read_settings().cookie_key or (secrets_from_streamlit or {}).get("cookie_key")
    return check_cookie_key(key or ensure_secrets_file())
