"""search index part ends

Every part of a customer's search text now ends with " |" (it used to separate them), so a
lookup can pin where a part ends: a phone number's last digits, "…41015619 |", even when
the number is the last part. Frozen SQL (no application imports): the old text gains the
mark at its end; a text that already has it (built by a newer loader) is left alone.

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-01 06:00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE customer_search SET body = body || ' |' WHERE body NOT LIKE '% |'")


def downgrade() -> None:
    op.execute("UPDATE customer_search SET body = substr(body, 1, length(body) - 2) "
               "WHERE body LIKE '% |'")
