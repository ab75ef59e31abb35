"""Actors, a definition and an audit reader shared by the saved-segment tests."""

from __future__ import annotations

import json

from sqlalchemy import Engine, select
from sqlmodel import Session, col

from db.core.access import Actor
from db.core.sql import table_of
from db.models import AuditEvent, Segment
from db.segments import service
from db.segments.definition import Condition, Group
from tests.factories import MARKETING

OTHER_MARKETING = Actor("max", "marketing")
GERMANS = Group(children=[Condition(field="country", op="eq", value="DE")])


def events(engine: Engine, action: str) -> list[tuple[str, str, dict]]:
    """(actor, entity id, changes) of each audit event with ``action``, oldest first."""
    with Session(engine) as session:
        found = session.execute(select(AuditEvent).where(col(AuditEvent.action) == action)
                                .order_by(col(AuditEvent.id))).scalars()
        return [(event.actor, str(event.entity_id), json.loads(event.changes))
                for event in found]


def unreadable_segment(engine: Engine) -> Segment:
    """A saved segment whose stored definition this version cannot read, as if an older
    version had written it."""
    broken = service.save_segment(MARKETING, name="Broken", description=None,
                                  kind="dynamic", definition=GERMANS, engine=engine)
    segments = table_of(Segment)
    with engine.begin() as connection:
        connection.execute(segments.update().where(segments.c.id == broken.id)
                           .values(definition='{"type": "group", "match": "sometimes"}'))
    return broken
