"""merge: a merged customer points at its survivor; consent history may follow it there

``customer.merged_into_id`` names the record a duplicate was merged into (NULL: not merged),
so old links still resolve and a merged record is no longer live. Indexed: a merge re-points
the records merged into the one it retires.

consent_event stays append-only, with one exception a merge needs: its history moves to the
survivor, so the survivor's consent state (the newest row per purpose, across both
histories) is derived by the same query as everyone else's. The update triggers now let
through exactly that: a change of ``customer_id`` alone, from a customer whose
``merged_into_id`` is the new ``customer_id`` (set first, in the same transaction); every
other column must stay the same. Anything else is refused with the message of 0006.

On SQLite the column is added in place (``ALTER TABLE ... ADD COLUMN``): batch mode would
rebuild ``customer``, and dropping it with foreign keys on would cascade into every table
that references it. The downgrade does rebuild it, so run it as Alembic's own command does,
on a connection with foreign keys off.

Revision ID: 0009_merge
Revises: 0008_duplicates
Create Date: 2026-12-01 17:15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Frozen DDL and literal SQL only: never import the application (db.*) here.

revision: str = '0009_merge'
down_revision: str | None = '0008_duplicates'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MESSAGE = ("consent_event is append-only: consent history is never changed or deleted "
            "(record a new grant or withdrawal instead), and a customer with consent "
            "history is not hard-deleted (soft-delete or erase them)")
_FK = 'fk_customer_merged_into_id_customer'
_INDEX = 'ix_customer_merged_into_id'

# Only customer_id changes, and only to the survivor of the customer it leaves.
_SQLITE_MOVE = (
    "NEW.id IS OLD.id AND NEW.purpose IS OLD.purpose AND NEW.granted IS OLD.granted "
    "AND NEW.at IS OLD.at AND NEW.source IS OLD.source "
    "AND NEW.notice_version IS OLD.notice_version "
    "AND NEW.recorded_by_user_id IS OLD.recorded_by_user_id "
    "AND NEW.customer_id IS (SELECT merged_into_id FROM customer WHERE id = OLD.customer_id)"
)
_SQLITE_UP = (
    "DROP TRIGGER IF EXISTS consent_event_no_update",
    "CREATE TRIGGER consent_event_no_update BEFORE UPDATE ON consent_event "
    "WHEN NOT (" + _SQLITE_MOVE + ") "
    "BEGIN SELECT RAISE(ABORT, '" + _MESSAGE + "'); END",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS consent_event_no_update",
    "CREATE TRIGGER consent_event_no_update BEFORE UPDATE ON consent_event "
    "BEGIN SELECT RAISE(ABORT, '" + _MESSAGE + "'); END",
)
_POSTGRESQL_UP = (
    "CREATE OR REPLACE FUNCTION consent_event_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'UPDATE' THEN "
    "IF (NEW.id, NEW.purpose, NEW.granted, NEW.at, NEW.source, NEW.notice_version, "
    "NEW.recorded_by_user_id) IS NOT DISTINCT FROM (OLD.id, OLD.purpose, OLD.granted, "
    "OLD.at, OLD.source, OLD.notice_version, OLD.recorded_by_user_id) "
    "AND NEW.customer_id IS NOT DISTINCT FROM "
    "(SELECT merged_into_id FROM customer WHERE id = OLD.customer_id) THEN "
    "RETURN NEW; END IF; END IF; "
    "RAISE EXCEPTION '" + _MESSAGE + "'; END $$",
)
_POSTGRESQL_DOWN = (
    "CREATE OR REPLACE FUNCTION consent_event_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '" + _MESSAGE + "'; END $$",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("ALTER TABLE customer ADD COLUMN merged_into_id INTEGER "
                   "CONSTRAINT " + _FK + " REFERENCES customer (id)")
        statements = _SQLITE_UP
    else:
        op.add_column('customer', sa.Column('merged_into_id', sa.Integer(), nullable=True))
        op.create_foreign_key(_FK, 'customer', 'customer', ['merged_into_id'], ['id'])
        statements = _POSTGRESQL_UP
    op.create_index(_INDEX, 'customer', ['merged_into_id'])
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for statement in _SQLITE_DOWN if sqlite else _POSTGRESQL_DOWN:
        op.execute(statement)
    op.drop_index(_INDEX, table_name='customer')
    if sqlite:
        with op.batch_alter_table('customer') as batch:
            batch.drop_column('merged_into_id')
    else:
        op.drop_constraint(_FK, 'customer', type_='foreignkey')
        op.drop_column('customer', 'merged_into_id')
