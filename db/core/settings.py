"""The environment, read in this one module: every setting custdb takes from outside, typed.

Everything else asks :func:`read_settings` instead of ``os.environ``, so the README's
Configuration table and this class describe the same variables, and a test can change a
variable (``monkeypatch.setenv``) and have the next call see it. Reading is cheap (a few
dictionary look-ups), so nothing is cached: a command-line tool, a test and the app all see
the environment as it is when they ask.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # db/core/settings.py -> the project
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "custdb.sqlite"
DEFAULT_DEMO_CUSTOMERS = 5_000

DATABASE_URL_ENV = "DATABASE_URL"
COOKIE_KEY_ENV = "CUSTDB_COOKIE_KEY"
AUDIT_KEY_ENV = "CUSTDB_AUDIT_KEY"
DEMO_CUSTOMERS_ENV = "CUSTDB_DEMO_CUSTOMERS"


class InvalidSetting(ValueError):
    """An environment variable holds a value custdb cannot use; the message names it."""


@dataclass(frozen=True)
class Settings:
    """What the environment configures (see the README's Configuration table)."""

    database_url: str  # SQLAlchemy URL; the SQLite file under data/ unless DATABASE_URL says
    cookie_key: str | None  # signs the sign-in cookie; None: the app uses its secrets file
    demo_customers: int  # demo customers `make run` loads into an empty database
    # keys the audit trail's hash chain (HMAC); None: db.audit.keys uses its key file
    audit_key: str | None = None


def read_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings in ``environ`` (default: this process's environment), read now.

    An empty variable counts as unset, as a shell's ``DATABASE_URL= make run`` means.
    """
    env = os.environ if environ is None else environ
    demo_customers = env.get(DEMO_CUSTOMERS_ENV) or str(DEFAULT_DEMO_CUSTOMERS)
    if not demo_customers.strip().isdigit():
        raise InvalidSetting(f"{DEMO_CUSTOMERS_ENV} must be a whole number of customers, "
                             f"not {demo_customers!r}.")
    return Settings(
        database_url=env.get(DATABASE_URL_ENV) or f"sqlite:///{DEFAULT_SQLITE_PATH}",
        cookie_key=env.get(COOKIE_KEY_ENV) or None,
        demo_customers=int(demo_customers),
        audit_key=env.get(AUDIT_KEY_ENV) or None,
    )
