"""baseline: the whole schema, frozen

The 18 migrations written before the first release (0001–0018), squashed into one: on an
empty database it creates the schema their head built (tables, columns in the same order,
keys, checks, indexes, the audit trail's append-only triggers, the customer search index).
Frozen DDL only: plain SQLAlchemy types and literal SQL, never an import from the
application, so later changes to the code cannot change what it builds. Derived tables
(customer_summary, the KPI tables, customer_search) start empty; the demo loader fills them
and the write services keep them current. ``db.migrate.upgrade`` refuses a database stamped
by the old chain (see db.setup).

Revision ID: 0001_baseline
Revises:
Create Date: 2026-12-01 11:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001_baseline'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Names are final (op.f): the models' naming convention must not rename anything.
_f = op.f


def _when(column: str, values: Sequence[str], name: str) -> sa.CheckConstraint:
    """CHECK (column IN ('a', 'b', ...)), named ``name``."""
    listed = ', '.join("'" + value + "'" for value in values)
    return sa.CheckConstraint(column + ' IN (' + listed + ')', name=_f(name))


def _fk(table: str, column: str, parent: str, ondelete: str) -> sa.ForeignKeyConstraint:
    """``column`` refers to ``parent.id``; named fk_<table>_<column>_<parent>."""
    return sa.ForeignKeyConstraint([column], [parent + '.id'], ondelete=ondelete,
                                   name=_f('fk_' + table + '_' + column + '_' + parent))


def _timestamp() -> sa.DateTime:
    """What the models' UTC timestamps store: DATETIME on SQLite, timestamptz on PostgreSQL."""
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    _operational_tables()
    _segment_tables()
    _derived_tables()
    dialect = op.get_bind().dialect.name
    for statement in (_SQLITE_SEARCH if dialect == 'sqlite' else _POSTGRESQL_SEARCH):
        op.execute(statement)
    for statement in (_SQLITE_APPEND_ONLY if dialect == 'sqlite' else _POSTGRESQL_APPEND_ONLY):
        op.execute(statement)


def _operational_tables() -> None:
    op.create_table(
        'app_user',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=50), nullable=False),
        sa.Column('display_name', sa.String(length=100), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('password_hash', sa.String(length=100), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('failed_logins', sa.Integer(), nullable=False),
        sa.Column('locked_until', _timestamp(), nullable=True),
        sa.Column('last_login_at', _timestamp(), nullable=True),
        sa.Column('created_at', _timestamp(), nullable=False),
        sa.Column('sessions_revoked_at', _timestamp(), nullable=True),
        _when('role', ('admin', 'manager', 'marketing'), 'ck_app_user_role'),
        sa.PrimaryKeyConstraint('id', name=_f('pk_app_user')),
        sa.UniqueConstraint('username', name=_f('uq_app_user_username')),
    )
    op.create_table(
        'audit_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', _timestamp(), nullable=False),
        sa.Column('actor', sa.String(length=50), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('entity', sa.String(length=40), nullable=False),
        sa.Column('entity_id', sa.String(length=64), nullable=True),
        sa.Column('changes', sa.String(), nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('prev_hash', sa.String(length=64), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=_f('pk_audit_event')),
    )
    # Indexes are created in the order the squashed chain left them in (SQLite lists a
    # table's indexes newest first, and the planner looks at them in that order).
    op.create_index(_f('ix_audit_event_entity'), 'audit_event', ['entity', 'entity_id', 'id'])
    op.create_index(_f('ix_audit_event_action_id'), 'audit_event', ['action', 'id'])
    op.create_index(_f('ix_audit_event_at'), 'audit_event', ['at'])
    op.create_index(_f('ix_audit_event_actor_id'), 'audit_event', ['actor', 'id'])

    op.create_table(
        'customer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('first_name', sa.String(length=100), nullable=False),
        sa.Column('last_name', sa.String(length=100), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('phone', sa.String(length=20), nullable=True),
        sa.Column('street', sa.String(length=200), nullable=True),
        sa.Column('postcode', sa.String(length=20), nullable=True),
        sa.Column('city', sa.String(length=100), nullable=True),
        sa.Column('country', sa.String(length=2), nullable=False),
        sa.Column('birth_date', sa.Date(), nullable=True),
        sa.Column('gender', sa.String(length=20), nullable=True),
        sa.Column('occupation', sa.String(length=100), nullable=True),
        sa.Column('income_band', sa.String(length=20), nullable=True),
        sa.Column('preferred_channel', sa.String(length=20), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('source', sa.String(length=20), nullable=True),
        sa.Column('external_ref', sa.String(length=64), nullable=True),
        sa.Column('created_at', _timestamp(), nullable=False),
        sa.Column('updated_at', _timestamp(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('deleted_at', _timestamp(), nullable=True),
        sa.Column('erased_at', _timestamp(), nullable=True),
        _when('gender', ('female', 'male', 'diverse', 'undisclosed'), 'ck_customer_gender'),
        _when('income_band', ('<25k', '25-50k', '50-75k', '75-100k', '100-150k', '>150k'),
              'ck_customer_income_band'),
        _when('preferred_channel', ('email', 'phone', 'sms', 'post'),
              'ck_customer_preferred_channel'),
        _when('source', ('web', 'store', 'referral', 'event', 'partner', 'social', 'import'),
              'ck_customer_source'),
        _when('status', ('lead', 'active', 'inactive', 'churned'), 'ck_customer_status'),
        sa.PrimaryKeyConstraint('id', name=_f('pk_customer')),
        sa.UniqueConstraint('email', name=_f('uq_customer_email')),
        sa.UniqueConstraint('external_ref', name=_f('uq_customer_external_ref')),
    )
    op.create_index(_f('ix_customer_country_status'), 'customer', ['country', 'status'])
    op.create_index(_f('ix_customer_created_at'), 'customer', ['created_at'])
    op.create_index(_f('ix_customer_last_first'), 'customer', ['last_name', 'first_name'])
    op.create_index(_f('ix_customer_phone'), 'customer', ['phone'])

    op.create_table(
        'tag',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=50), nullable=False),
        sa.PrimaryKeyConstraint('id', name=_f('pk_tag')),
        sa.UniqueConstraint('name', name=_f('uq_tag_name')),
    )
    op.create_table(
        'consent_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=30), nullable=False),
        sa.Column('granted', sa.Boolean(), nullable=False),
        sa.Column('at', _timestamp(), nullable=False),
        sa.Column('source', sa.String(length=50), nullable=False),
        sa.Column('notice_version', sa.String(length=20), nullable=False),
        sa.Column('recorded_by_user_id', sa.Integer(), nullable=True),
        _when('purpose', ('email_marketing', 'sms', 'profiling', 'third_party_sharing'),
              'ck_consent_event_purpose'),
        _fk('consent_event', 'customer_id', 'customer', 'CASCADE'),
        _fk('consent_event', 'recorded_by_user_id', 'app_user', 'SET NULL'),
        sa.PrimaryKeyConstraint('id', name=_f('pk_consent_event')),
    )
    op.create_index(_f('ix_consent_event_customer_purpose_at'), 'consent_event',
                    ['customer_id', 'purpose', 'at'])

    op.create_table(
        'customer_tag',
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('tag_id', sa.Integer(), nullable=False),
        _fk('customer_tag', 'customer_id', 'customer', 'CASCADE'),
        _fk('customer_tag', 'tag_id', 'tag', 'CASCADE'),
        sa.PrimaryKeyConstraint('customer_id', 'tag_id', name=_f('pk_customer_tag')),
    )
    op.create_index(_f('ix_customer_tag_tag_customer'), 'customer_tag', ['tag_id', 'customer_id'])

    op.create_table(
        'feedback',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('at', _timestamp(), nullable=False),
        sa.Column('nps_score', sa.Integer(), nullable=False),
        sa.Column('comment', sa.String(length=4000), nullable=True),
        sa.CheckConstraint('nps_score BETWEEN 0 AND 10', name=_f('ck_feedback_nps_range')),
        _fk('feedback', 'customer_id', 'customer', 'CASCADE'),
        sa.PrimaryKeyConstraint('id', name=_f('pk_feedback')),
    )
    op.create_index(_f('ix_feedback_at'), 'feedback', ['at'])
    op.create_index(_f('ix_feedback_customer_at'), 'feedback', ['customer_id', 'at'])

    op.create_table(
        'interaction',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('at', _timestamp(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('direction', sa.String(length=20), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('summary', sa.String(length=4000), nullable=True),
        sa.Column('staff_user_id', sa.Integer(), nullable=True),
        sa.Column('outcome', sa.String(length=100), nullable=True),
        sa.Column('logged_at', _timestamp(), nullable=True),
        _when('direction', ('inbound', 'outbound', 'internal'), 'ck_interaction_direction'),
        _when('kind', ('email', 'call', 'meeting', 'ticket', 'note'), 'ck_interaction_kind'),
        _fk('interaction', 'customer_id', 'customer', 'CASCADE'),
        _fk('interaction', 'staff_user_id', 'app_user', 'SET NULL'),
        sa.PrimaryKeyConstraint('id', name=_f('pk_interaction')),
    )
    op.create_index(_f('ix_interaction_customer_at'), 'interaction', ['customer_id', 'at'])
    # Time first and covering: a window's contacts are read from the index alone.
    op.create_index(_f('ix_interaction_at'), 'interaction', ['at', 'customer_id', 'kind'])

    op.create_table(
        'orders',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('ordered_at', _timestamp(), nullable=False),
        sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('category', sa.String(length=50), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('product', sa.String(length=120), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        _when('channel', ('web', 'store', 'app', 'phone', 'marketplace'), 'ck_orders_channel'),
        sa.CheckConstraint('quantity > 0', name=_f('ck_orders_quantity_positive')),
        _fk('orders', 'customer_id', 'customer', 'CASCADE'),
        sa.PrimaryKeyConstraint('id', name=_f('pk_orders')),
    )
    # Covering indexes, per customer and time first: segment conditions such as "bought
    # books in the last 90 days" read the index without touching the table rows.
    op.create_index(_f('ix_orders_customer_activity'), 'orders',
                    ['customer_id', 'ordered_at', 'category', 'channel', 'amount'])
    op.create_index(_f('ix_orders_ordered_at'), 'orders',
                    ['ordered_at', 'customer_id', 'category', 'channel', 'amount'])

    op.create_table(
        'payment_method',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('brand', sa.String(length=20), nullable=False),
        sa.Column('last4', sa.String(length=4), nullable=False),
        sa.Column('exp_month', sa.Integer(), nullable=False),
        sa.Column('exp_year', sa.Integer(), nullable=False),
        sa.Column('processor_token', sa.String(length=100), nullable=False),
        sa.Column('created_at', _timestamp(), nullable=False),
        sa.CheckConstraint('exp_month BETWEEN 1 AND 12',
                           name=_f('ck_payment_method_exp_month_range')),
        sa.CheckConstraint('length(last4) = 4', name=_f('ck_payment_method_last4_length')),
        _fk('payment_method', 'customer_id', 'customer', 'CASCADE'),
        sa.PrimaryKeyConstraint('id', name=_f('pk_payment_method')),
        sa.UniqueConstraint('processor_token', name=_f('uq_payment_method_processor_token')),
    )
    op.create_index(_f('ix_payment_method_customer_id'), 'payment_method', ['customer_id'])


def _segment_tables() -> None:
    op.create_table(
        'segment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('description', sa.String(length=1000), nullable=True),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('definition', sa.Text(), nullable=False),
        sa.Column('owner', sa.String(length=50), nullable=False),
        sa.Column('created_at', _timestamp(), nullable=False),
        sa.Column('updated_at', _timestamp(), nullable=False),
        sa.Column('snapshot_at', _timestamp(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        _when('kind', ('dynamic', 'static'), 'ck_segment_kind'),
        sa.PrimaryKeyConstraint('id', name=_f('pk_segment')),
        sa.UniqueConstraint('name', name=_f('uq_segment_name')),
    )
    op.create_table(
        'segment_member',
        sa.Column('segment_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        _fk('segment_member', 'customer_id', 'customer', 'CASCADE'),
        _fk('segment_member', 'segment_id', 'segment', 'CASCADE'),
        sa.PrimaryKeyConstraint('segment_id', 'customer_id', name=_f('pk_segment_member')),
    )
    op.create_table(
        'segment_size',
        sa.Column('segment_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        _fk('segment_size', 'segment_id', 'segment', 'CASCADE'),
        sa.PrimaryKeyConstraint('segment_id', 'day', name=_f('pk_segment_size')),
    )


def _derived_tables() -> None:
    # One row per customer; the columns segments test most come first.
    op.create_table(
        'customer_summary',
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('live', sa.Boolean(), nullable=False),
        sa.Column('consent_email_marketing', sa.Boolean(), nullable=False),
        sa.Column('has_email', sa.Boolean(), nullable=False),
        sa.Column('channels', sa.Integer(), nullable=False),
        sa.Column('order_count', sa.Integer(), nullable=False),
        sa.Column('spend_cents', sa.BigInteger(), nullable=False),
        sa.Column('latest_nps', sa.Integer(), nullable=True),
        sa.Column('country', sa.String(length=2), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('last_order_at', _timestamp(), nullable=True),
        sa.Column('last_interaction_at', _timestamp(), nullable=True),
        sa.Column('birth_date', sa.Date(), nullable=True),
        sa.Column('first_order_at', _timestamp(), nullable=True),
        sa.Column('gender', sa.String(length=20), nullable=True),
        sa.Column('income_band', sa.String(length=20), nullable=True),
        sa.Column('source', sa.String(length=20), nullable=True),
        sa.Column('has_phone', sa.Boolean(), nullable=False),
        sa.Column('created_at', _timestamp(), nullable=False),
        sa.Column('consent_sms', sa.Boolean(), nullable=False),
        sa.Column('consent_profiling', sa.Boolean(), nullable=False),
        sa.Column('consent_third_party_sharing', sa.Boolean(), nullable=False),
        sa.Column('gross_cents', sa.BigInteger(), nullable=False),
        _fk('customer_summary', 'customer_id', 'customer', 'CASCADE'),
        sa.PrimaryKeyConstraint('customer_id', name=_f('pk_customer_summary')),
    )
    op.create_index(_f('ix_customer_summary_gross_cents'), 'customer_summary', ['gross_cents'])
    op.create_table(
        'customer_months',
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('gross_cents', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('customer_id', 'month', name=_f('pk_customer_months')),
        sqlite_with_rowid=False,
    )
    op.create_index(_f('ix_customer_months_month_gross'), 'customer_months',
                    ['month', 'gross_cents', 'customer_id'])
    op.create_table(
        'customer_recency',
        sa.Column('last_order_day', sa.Date(), nullable=False),
        sa.Column('orders', sa.Integer(), nullable=False),
        sa.Column('country', sa.String(length=2), nullable=False),
        sa.Column('customers', sa.Integer(), nullable=False),
        sa.Column('spend_cents', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('last_order_day', 'orders', 'country',
                                name=_f('pk_customer_recency')),
    )
    # Orders summed per UTC day and country: per channel and category, and rolled up.
    for table, keys in (('daily_sales', (('channel', 20), ('category', 50))),
                        ('daily_categories', (('category', 50),)),
                        ('daily_channels', (('channel', 20),)),
                        ('daily_totals', ())):
        op.create_table(
            table,
            *_period_and_country('day'),
            *(sa.Column(key, sa.String(length=length), nullable=False) for key, length in keys),
            *_sales_measures(),
            sa.PrimaryKeyConstraint('day', 'country', *(key for key, _ in keys),
                                    name=_f('pk_' + table)),
        )
    op.create_table(
        'daily_interactions',
        *_period_and_country('day'),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('interactions', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'country', 'kind', name=_f('pk_daily_interactions')),
    )
    op.create_table(
        'daily_nps',
        *_period_and_country('day'),
        sa.Column('promoters', sa.Integer(), nullable=False),
        sa.Column('passives', sa.Integer(), nullable=False),
        sa.Column('detractors', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'country', name=_f('pk_daily_nps')),
    )
    # Who ordered (roaring bitmaps of customer ids) per day and month; how many per week.
    for table, period in (('daily_customers', 'day'), ('monthly_customers', 'month')):
        op.create_table(
            table,
            *_period_and_country(period),
            sa.Column('buyers', sa.LargeBinary(), nullable=False),
            sa.Column('repeaters', sa.LargeBinary(), nullable=False),
            sa.Column('newcomers', sa.LargeBinary(), nullable=False),
            sa.PrimaryKeyConstraint(period, 'country', name=_f('pk_' + table)),
        )
    op.create_table(
        'weekly_customers',
        *_period_and_country('week'),
        sa.Column('active', sa.Integer(), nullable=False),
        sa.Column('new', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('week', 'country', name=_f('pk_weekly_customers')),
    )


def _period_and_country(period: str) -> list[sa.Column[object]]:
    """The key every KPI table starts with: a UTC day (or month, week) and a country."""
    return [sa.Column(period, sa.Date(), nullable=False),
            sa.Column('country', sa.String(length=2), nullable=False)]


def _sales_measures() -> list[sa.Column[int]]:
    """The sums every daily sales table holds per cell."""
    return [
        sa.Column('orders', sa.Integer(), nullable=False),
        sa.Column('refunds', sa.Integer(), nullable=False),
        sa.Column('revenue_cents', sa.BigInteger(), nullable=False),
        sa.Column('new_customers', sa.Integer(), nullable=False),
    ]


# The customer search index (one normalised text per customer, searched by trigrams):
# an FTS5 table on SQLite (rowid = customer id), a pg_trgm GIN index on PostgreSQL.
_SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE customer_search USING fts5(body, tokenize='trigram')",
    # Merge index segments less often than the default 4: faster bulk loads.
    "INSERT INTO customer_search (customer_search, rank) VALUES ('automerge', 16)",
)
_POSTGRESQL_SEARCH = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE TABLE customer_search (customer_id integer PRIMARY KEY "
    "REFERENCES customer(id) ON DELETE CASCADE, body text NOT NULL)",
    "CREATE INDEX ix_customer_search_body ON customer_search USING gin (body gin_trgm_ops)",
)

# audit_event is append-only: UPDATE and DELETE (and TRUNCATE on PostgreSQL) are refused. A
# SQLite migration that rebuilds audit_event in batch mode drops them: create them again.
_SQLITE_APPEND_ONLY = (
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
)
_POSTGRESQL_APPEND_ONLY = (
    "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    "RAISE EXCEPTION 'audit_event is append-only'; END $$",
    "CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()",
)

_TABLES = (  # in the order they are dropped
    'weekly_customers', 'monthly_customers', 'daily_customers', 'daily_nps', 'daily_interactions',
    'daily_totals', 'daily_channels', 'daily_categories', 'daily_sales', 'customer_recency',
    'customer_months', 'customer_summary', 'segment_size', 'segment_member', 'segment',
    'payment_method', 'orders', 'interaction', 'feedback', 'customer_tag', 'consent_event', 'tag',
    'customer', 'audit_event', 'app_user',
)


def downgrade() -> None:
    """Drop everything the baseline made (and all data with it)."""
    op.execute('DROP TABLE customer_search')
    if op.get_bind().dialect.name != 'sqlite':
        op.execute('DROP FUNCTION audit_event_append_only() CASCADE')
    for table in _TABLES:
        op.drop_table(table)
