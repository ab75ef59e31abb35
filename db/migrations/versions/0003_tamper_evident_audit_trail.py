"""tamper-evident append-only audit trail

Chains every audit event to the one before it (hashes backfilled for events already
stored) and installs the triggers that refuse UPDATE and DELETE on audit_event.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 09:44:02.363664
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import db.core.types
from db.audit.trail import GENESIS_HASH, append_only_ddl, event_hash

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.drop_index(batch_op.f('ix_audit_event_action'))
        batch_op.drop_index(batch_op.f('ix_audit_event_actor'))
        batch_op.create_index('ix_audit_event_action_id', ['action', 'id'], unique=False)
        batch_op.create_index('ix_audit_event_actor_id', ['actor', 'id'], unique=False)

    _backfill_chain()

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.alter_column('prev_hash', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)

    for statement in append_only_ddl(op.get_bind().dialect.name):
        op.execute(statement)


def _backfill_chain() -> None:
    bind = op.get_bind()
    events = sa.table('audit_event', sa.column('id', sa.Integer), sa.column('at', db.core.types.UTCDateTime()),
                      sa.column('actor', sa.String), sa.column('action', sa.String),
                      sa.column('entity', sa.String), sa.column('entity_id', sa.String),
                      sa.column('changes', sa.String), sa.column('source', sa.String),
                      sa.column('prev_hash', sa.String), sa.column('hash', sa.String))
    prev_hash = GENESIS_HASH
    rows = bind.execute(sa.select(events).order_by(events.c.id)).mappings().all()
    for row in rows:
        digest = event_hash(prev_hash=prev_hash, at=row['at'], actor=row['actor'], action=row['action'],
                            entity=row['entity'], entity_id=row['entity_id'], changes=row['changes'],
                            source=row['source'])
        bind.execute(events.update().where(events.c.id == row['id']).values(prev_hash=prev_hash, hash=digest))
        prev_hash = digest


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('DROP TRIGGER IF EXISTS audit_event_no_update')
        op.execute('DROP TRIGGER IF EXISTS audit_event_no_delete')
    else:
        op.execute('DROP TRIGGER IF EXISTS audit_event_no_update_delete ON audit_event')
        op.execute('DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event')
        op.execute('DROP FUNCTION IF EXISTS audit_event_append_only()')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_actor_id')
        batch_op.drop_index('ix_audit_event_action_id')
        batch_op.create_index(batch_op.f('ix_audit_event_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_action'), ['action'], unique=False)
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
