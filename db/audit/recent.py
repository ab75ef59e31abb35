"""Double submits: the same write sent twice by one person within moments.

A second click on a form's button can arrive before the page has cleared the form, or while
the first write still waits for the database; Streamlit then runs the same request again
with the same values. Services that must not write such a request twice ask here for the
actor's recent writes of one kind, read from the audit trail (every write is audited in its
own transaction, so an event here is a committed write), and compare what was written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from db.core.types import utcnow
from db.models import AuditEvent

# The same write by the same person within this time is taken for a double submit.
DOUBLE_SUBMIT_WINDOW = timedelta(seconds=30)


@dataclass(frozen=True)
class RecentWrite:
    """One audited write: the record it touched and the changes it recorded."""

    entity_id: str | None
    changes: dict[str, Any]


def recent_writes(session: Session, actor: str, *, action: str, entity: str,
                  entity_id: int | None = None,
                  window: timedelta | None = None) -> list[RecentWrite]:
    """``actor``'s audited ``action`` writes on ``entity`` (one record when ``entity_id`` is
    given) within ``window`` (default :data:`DOUBLE_SUBMIT_WINDOW`), newest first. Few
    rows: the window is short, and the query is on indexed columns."""
    since = utcnow() - (DOUBLE_SUBMIT_WINDOW if window is None else window)
    query = select(AuditEvent.entity_id, AuditEvent.changes).where(
        AuditEvent.entity == entity, AuditEvent.action == action,
        AuditEvent.actor == actor[:50], col(AuditEvent.at) >= since)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == str(entity_id))
    return [RecentWrite(found, json.loads(changes))
            for found, changes in session.exec(query.order_by(col(AuditEvent.id).desc()))]
