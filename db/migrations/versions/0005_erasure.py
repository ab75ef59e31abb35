"""erasure: audit details sealed apart from the chain, redaction only, suppressed e-mails

``audit_event`` gains ``changes_digest`` and ``salt``: events written from now on seal their
details (db.audit.details), and the chain covers the digest. The UPDATE trigger that refused
every change now allows exactly one: an erasure replacing sealed details and dropping the
salt, with every other column unchanged. DELETE (and TRUNCATE) stay refused. Adding nullable
columns needs no batch rebuild on SQLite, so the insert triggers of 0002 stay.
``suppressed_email`` holds keyed hashes of erased people's addresses. Frozen DDL only.

Revision ID: 0005_erasure
Revises: 0004_settings
Create Date: 2026-12-01 16:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Frozen DDL and literal SQL only: never import the application (db.*) here.

revision: str = '0005_erasure'
down_revision: str | None = '0004_settings'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_f = op.f
_UNCHANGED = ("id", "at", "actor", "action", "entity", "entity_id", "source", "prev_hash",
              "hash", "changes_digest")
_REFUSAL = "audit_event is append-only: only an erasure may redact an event''s details"

_SQLITE = (
    "DROP TRIGGER audit_event_no_update",
    "CREATE TRIGGER audit_event_only_redaction BEFORE UPDATE ON audit_event "
    "WHEN NOT (OLD.changes_digest IS NOT NULL AND OLD.salt IS NOT NULL AND NEW.salt IS NULL AND "
    + " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _UNCHANGED) + ") "
    "BEGIN SELECT RAISE(ABORT, '" + _REFUSAL + "'); END",
)
_POSTGRESQL = (
    "DROP TRIGGER audit_event_no_update_delete ON audit_event",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    "CREATE FUNCTION audit_event_only_redaction() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF NOT (OLD.changes_digest IS NOT NULL AND OLD.salt IS NOT NULL AND NEW.salt IS NULL AND "
    + " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in _UNCHANGED) + ") THEN "
    "RAISE EXCEPTION '" + _REFUSAL + "'; END IF; RETURN NEW; END $$",
    "CREATE TRIGGER audit_event_only_redaction BEFORE UPDATE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_only_redaction()",
)


def upgrade() -> None:
    op.add_column('audit_event', sa.Column('changes_digest', sa.String(length=64), nullable=True))
    op.add_column('audit_event', sa.Column('salt', sa.String(length=32), nullable=True))
    op.create_table(
        'suppressed_email',
        sa.Column('email_hash', sa.String(length=64), nullable=False),
        sa.Column('since', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint('email_hash', name=_f('pk_suppressed_email')),
    )
    for statement in _SQLITE if op.get_bind().dialect.name == 'sqlite' else _POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('DROP TRIGGER audit_event_only_redaction')
        op.execute("CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
                   "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END")
    else:
        op.execute('DROP FUNCTION audit_event_only_redaction() CASCADE')
        op.execute('DROP TRIGGER audit_event_no_delete ON audit_event')
        op.execute("CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON "
                   "audit_event FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()")
    op.drop_table('suppressed_email')
    op.drop_column('audit_event', 'salt')
    op.drop_column('audit_event', 'changes_digest')
