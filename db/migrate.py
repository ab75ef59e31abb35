"""Schema migrations with Alembic, callable from code and from the command line.

``python -m db.migrate`` upgrades the configured database to the newest revision;
``python -m db.migrate revision "what changed"`` writes a new revision by comparing the models
with a database at head (developers run it against a scratch SQLite file).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from alembic import command
from alembic.config import Config

from db.core.engine import database_url, normalise_url
from db.search.index import TABLE as SEARCH_TABLE

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def include_object(obj: object, name: str | None, type_: str, reflected: bool,
                   compare_to: object) -> bool:
    """Leave the engine-specific search index (and FTS5's shadow tables) out of
    autogenerate: its own migration creates it, and it is not in the SQLModel metadata."""
    return not (type_ == "table" and name is not None and name.startswith(SEARCH_TABLE))


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at our migrations and ``url`` (default: DATABASE_URL)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Alembic's config is an INI parser: a literal % in a password must be doubled.
    escaped = normalise_url(url or database_url()).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", escaped)
    return config


def upgrade(url: str | None = None) -> None:
    """Bring the database at ``url`` to the newest schema; a no-op when it is already there."""
    command.upgrade(alembic_config(url), "head")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("upgrade", help="upgrade to the newest revision (the default)")
    revision = sub.add_parser("revision", help="autogenerate a new revision")
    revision.add_argument("message")
    args = parser.parse_args(argv)
    if args.command == "revision":
        command.revision(alembic_config(), message=args.message, autogenerate=True)
    else:
        upgrade()


if __name__ == "__main__":
    main()
