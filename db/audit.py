"""The audit trail: one call that every write path makes inside its own transaction.

Because the event is added to the caller's session, it commits or rolls back with the change
it describes: there is never an event for a write that did not happen, nor a write without
its event.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from db.models import AuditEvent
from db.types import utcnow

SOURCES = ("form", "grid", "import", "cli", "api", "login", "system")


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def record(session: Session, *, actor: str, action: str, entity: str,
           entity_id: object | None = None, changes: dict[str, Any] | None = None,
           source: str) -> AuditEvent:
    """Add an audit event to ``session``; the caller's commit writes it.

    ``changes`` maps a field to ``[old, new]`` for updates, or holds any facts worth keeping
    (values are stored as JSON; dates and decimals as their text).
    """
    if source not in SOURCES:
        raise ValueError(f"unknown audit source {source!r}")
    payload = {key: ([_jsonable(v) for v in value] if isinstance(value, (list, tuple))
                     else _jsonable(value))
               for key, value in (changes or {}).items()}
    event = AuditEvent(
        at=utcnow(), actor=actor[:50], action=action, entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        changes=json.dumps(payload, sort_keys=True, ensure_ascii=False), source=source,
    )
    session.add(event)
    return event
