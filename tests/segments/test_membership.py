"""Who is in a saved segment now: what the KPI page's segment filter reads."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from db.customers.service import soft_delete_customer
from db.segments import service
from db.segments.membership import SegmentNotFound, members_of
from tests.factories import ADMIN, MARKETING
from tests.segments.common import GERMANS


def _members(engine: Engine, segment_id: int) -> set[int]:
    with engine.connect() as connection:
        query = members_of(connection, segment_id, datetime.now(UTC))
        return set(connection.execute(query).scalars())


def test_static_members_are_the_snapshot_less_deleted_customers(engine: Engine,
                                                                people: dict) -> None:
    static = service.save_segment(MARKETING, name="Germans then", description=None,
                                  kind="static", definition=GERMANS, engine=engine)
    dynamic = service.save_segment(MARKETING, name="Germans now", description=None,
                                   kind="dynamic", definition=GERMANS, engine=engine)
    germans = {people[name] for name in ("Anna", "Ben", "Carl")}
    assert _members(engine, static.id) == _members(engine, dynamic.id) == germans
    soft_delete_customer(ADMIN, people["Ben"], engine=engine)
    assert _members(engine, static.id) == _members(engine, dynamic.id) == germans - {
        people["Ben"]}
    service.delete_segment(MARKETING, static.id, engine=engine)
    with pytest.raises(SegmentNotFound):
        _members(engine, static.id)
