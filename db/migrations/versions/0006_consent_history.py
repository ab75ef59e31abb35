"""consent_event: append-only, like the audit trail

Consent is evidence (GDPR art. 7(1): the controller must be able to show that the person
consented, to what, when and under which notice), so its history is only ever appended to:
a withdrawal is a new row, never an edit. These triggers refuse UPDATE and DELETE of
consent_event on both engines, and TRUNCATE on PostgreSQL, with one message.

The foreign key to customer stays ON DELETE CASCADE on purpose. The app never hard-deletes a
customer: a soft delete sets ``deleted_at`` and an erasure anonymises the row in place, so
the cascade never runs from the app. A DELETE of a customer made around the app (a script,
a console) cascades into consent_event, where the delete trigger fires (on SQLite for
foreign-key actions too) and aborts the whole statement with the message below, so the
customer and their consent history stay. A customer without consent history is deleted as
before. The same holds for ``recorded_by_user_id`` (ON DELETE SET NULL, an UPDATE here):
accounts are deactivated, never deleted, so a hard delete of a user who recorded consent is
refused too, and who recorded it stays known. Changing the key to RESTRICT would say the same with a bare foreign-key error and,
on SQLite, rebuild the table in batch mode; the trigger says why.

Tests empty consent_event the way they empty audit_event: on PostgreSQL under
``session_replication_role = replica``, which skips these (ordinary) triggers; a SQLite
test database is a fresh copy per test. A SQLite migration that rebuilds consent_event in
batch mode drops these triggers: create them again (frozen SQL, as here).

Revision ID: 0006_consent_history
Revises: 0005_erasure
Create Date: 2026-12-01 16:30:00
"""
from collections.abc import Sequence

from alembic import op

# Frozen DDL and literal SQL only: never import the application (db.*) here.

revision: str = '0006_consent_history'
down_revision: str | None = '0005_erasure'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MESSAGE = ("consent_event is append-only: consent history is never changed or deleted "
            "(record a new grant or withdrawal instead), and a customer with consent "
            "history is not hard-deleted (soft-delete or erase them)")

_SQLITE = (
    "DROP TRIGGER IF EXISTS consent_event_no_update",
    "DROP TRIGGER IF EXISTS consent_event_no_delete",
    "CREATE TRIGGER consent_event_no_update BEFORE UPDATE ON consent_event "
    "BEGIN SELECT RAISE(ABORT, '" + _MESSAGE + "'); END",
    "CREATE TRIGGER consent_event_no_delete BEFORE DELETE ON consent_event "
    "BEGIN SELECT RAISE(ABORT, '" + _MESSAGE + "'); END",
)
_POSTGRESQL = (
    "CREATE OR REPLACE FUNCTION consent_event_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '" + _MESSAGE + "'; END $$",
    "DROP TRIGGER IF EXISTS consent_event_no_update_delete ON consent_event",
    "DROP TRIGGER IF EXISTS consent_event_no_truncate ON consent_event",
    "CREATE TRIGGER consent_event_no_update_delete BEFORE UPDATE OR DELETE ON consent_event "
    "FOR EACH ROW EXECUTE FUNCTION consent_event_append_only()",
    "CREATE TRIGGER consent_event_no_truncate BEFORE TRUNCATE ON consent_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION consent_event_append_only()",
)


def upgrade() -> None:
    for statement in _SQLITE if op.get_bind().dialect.name == 'sqlite' else _POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('DROP TRIGGER consent_event_no_update')
        op.execute('DROP TRIGGER consent_event_no_delete')
    else:
        op.execute('DROP FUNCTION consent_event_append_only() CASCADE')
