"""Schema migrations with Alembic, callable from code and from the command line.

``python -m db.migrate`` upgrades the configured database to the newest revision;
``python -m db.migrate revision "what changed"`` writes a new revision by comparing the models
with a database at head (developers run it against a scratch SQLite file).

The migrations themselves (``db/migrations``) import only Alembic and SQLAlchemy: this module
hands the environment its connection and, for autogenerate, the models' metadata, and
:func:`render_frozen_type` writes custom column types as the plain types they store, so a
generated revision stays frozen however the application changes later.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

# The model modules register every table on SQLModel.metadata.
import db.admin.models
import db.derived.models
import db.imports.models
import db.models
import db.predict.models
import db.quality.models  # noqa: F401
from db.core.engine import database_url, make_engine, normalise_url
from db.derived.search_index import TABLE as SEARCH_TABLE

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The head of the migrations squashed into the baseline: a database stamped with it has
# exactly the baseline's schema (compared on both engines when the chain was squashed), so it
# is adopted, its data kept; one stamped with an older revision of that chain is refused.
SQUASHED_HEAD = "0018"
BASELINE = "0001_baseline"


class UnknownRevisionError(RuntimeError):
    """The database is stamped with a revision ``db/migrations`` does not have.

    Before the first release the migrations were squashed into one baseline, so a database
    left part-way along the old chain ("0001" … "0017") cannot be upgraded. It may hold real
    data, so nothing touches it; the message says what to do.
    """

    def __init__(self, url: str, revision: str) -> None:
        self.url = url
        self.revision = revision
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database:
            path = Path(parsed.database).resolve()
            where = str(path)
            remedy = ("move it aside and run make run again, which creates a new one with "
                      f"the demo data and users:\n  mv {path} {path}.old\n  make run")
        else:
            where = parsed.render_as_string(hide_password=True)
            remedy = ("point DATABASE_URL at a new, empty database (e.g. createdb "
                      "custdb_new) and run make run again.")
        super().__init__(
            f"custdb: the database {where} was made by the migrations from before the first "
            f"release (schema revision {revision!r}). They were squashed into one baseline, "
            "which cannot upgrade it. Nothing was changed.\n"
            "It may hold data entered by hand, so it is not replaced automatically. "
            "To start again, " + remedy)


def include_object(obj: object, name: str | None, type_: str, reflected: bool,
                   compare_to: object) -> bool:
    """Leave the engine-specific search index (and FTS5's shadow tables) out of
    autogenerate: the baseline creates it, and it is not in the SQLModel metadata."""
    return not (type_ == "table" and name is not None and name.startswith(SEARCH_TABLE))


def render_frozen_type(type_: str, obj: object,
                       autogen_context: AutogenContext) -> str | Literal[False]:
    """Autogenerate writes a custom column type (``UTCDateTime``, SQLModel's ``AutoString``)
    as the SQLAlchemy type it stores, e.g. ``sa.DateTime(timezone=True)``: a migration
    that imported the application's types would change when they change."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return "sa." + repr(obj.impl_instance)
    return False


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at our migrations and ``url`` (default: DATABASE_URL)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Alembic's config is an INI parser: a literal % in a password must be doubled.
    escaped = normalise_url(url or database_url()).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", escaped)
    return config


def current_revision(engine: Engine) -> str | None:
    """The revision the database is stamped with; None when it has none (a new database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(url: str | None = None) -> None:
    """Bring the database at ``url`` to the newest schema; a no-op when it is already there.

    A database at the head of the squashed chain is re-stamped as the baseline (same
    schema, data kept). Raises :class:`UnknownRevisionError`, before changing anything, when
    the database was made by other migrations this version no longer has.
    """
    url = normalise_url(url or database_url())
    config = alembic_config(url)
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    engine = make_engine(url)
    try:
        revision = current_revision(engine)
        if revision is not None and revision not in known | {SQUASHED_HEAD}:
            raise UnknownRevisionError(url, revision)
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            if revision == SQUASHED_HEAD:
                command.stamp(config, BASELINE, purge=True)
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def autogenerate(message: str, url: str | None = None) -> None:
    """Write a new revision with the differences between the models and the database."""
    config = alembic_config(url)
    engine = make_engine(url or database_url())
    try:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            config.attributes["autogenerate"] = {
                "target_metadata": SQLModel.metadata,
                "include_object": include_object,
                "render_item": render_frozen_type,
            }
            command.revision(config, message=message, autogenerate=True)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("upgrade", help="upgrade to the newest revision (the default)")
    revision = sub.add_parser("revision", help="autogenerate a new revision")
    revision.add_argument("message")
    args = parser.parse_args(argv)
    try:
        if args.command == "revision":
            autogenerate(args.message)
        else:
            upgrade()
    except UnknownRevisionError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
