"""audit_event: refuse any insert that is not a true append

The baseline's triggers refuse UPDATE and DELETE, but on SQLite ``INSERT OR REPLACE``
deletes the row it replaces without firing delete triggers (recursive_triggers is off), so it
rewrote an event in place. These triggers refuse, on both engines, an insert whose id is
not above every stored id (REPLACE of an old event, a back-dated insert) or whose
prev_hash is not the newest event's hash (the genesis hash, 64 zeros, for the first). On
PostgreSQL the same check also refuses ``INSERT ... ON CONFLICT DO UPDATE`` before its
update. Frozen SQL only; running it again (a database re-stamped at an older revision)
recreates the same triggers. A SQLite migration that rebuilds audit_event in batch mode drops
these triggers with the baseline's: create both sets again.

Revision ID: 0002_audit_true_appends
Revises: 0001_baseline
Create Date: 2026-12-01 12:00:00
"""
from collections.abc import Sequence

from alembic import op

# Frozen DDL and literal SQL only: never import the application (db.*) here.

revision: str = '0002_audit_true_appends'
down_revision: str | None = '0001_baseline'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_GENESIS = "'" + '0' * 64 + "'"

# SQLite: NEW.id is not yet known in a BEFORE INSERT trigger when the id is left to the
# engine, so the REPLACE check (an event with this id exists) runs before the insert and the
# append check (highest id, linked to the newest event before it) after it; RAISE(ABORT)
# undoes the whole statement, the replaced row included.
_SQLITE = (
    "DROP TRIGGER IF EXISTS audit_event_no_replace",
    "DROP TRIGGER IF EXISTS audit_event_true_append",
    "CREATE TRIGGER audit_event_no_replace BEFORE INSERT ON audit_event "
    "WHEN EXISTS (SELECT 1 FROM audit_event WHERE id = NEW.id) "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: an insert may not replace "
    "an event'); END",
    "CREATE TRIGGER audit_event_true_append AFTER INSERT ON audit_event "
    "WHEN NEW.id < (SELECT max(id) FROM audit_event) "
    "OR NEW.prev_hash IS NOT coalesce((SELECT hash FROM audit_event WHERE id < NEW.id "
    "ORDER BY id DESC LIMIT 1), " + _GENESIS + ") "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: an insert must follow the "
    "newest event and link to its hash'); END",
)
_POSTGRESQL = (
    "CREATE OR REPLACE FUNCTION audit_event_true_append() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ DECLARE newest_id integer; newest_hash text; BEGIN "
    "SELECT id, hash INTO newest_id, newest_hash FROM audit_event ORDER BY id DESC LIMIT 1; "
    "IF NEW.id <= newest_id OR NEW.prev_hash IS DISTINCT FROM coalesce(newest_hash, "
    + _GENESIS + ") THEN "
    "RAISE EXCEPTION 'audit_event is append-only: an insert must follow the newest event "
    "and link to its hash'; END IF; RETURN NEW; END $$",
    "DROP TRIGGER IF EXISTS audit_event_true_append ON audit_event",
    "CREATE TRIGGER audit_event_true_append BEFORE INSERT ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_true_append()",
)


def upgrade() -> None:
    for statement in _SQLITE if op.get_bind().dialect.name == 'sqlite' else _POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('DROP TRIGGER audit_event_true_append')
        op.execute('DROP TRIGGER audit_event_no_replace')
    else:
        op.execute('DROP FUNCTION audit_event_true_append() CASCADE')
