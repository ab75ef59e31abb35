"""How big saved segments are: the list with current sizes, one segment's size, its size
history (the first count of each day is recorded) and the overlap of two to four segments.

Every call checks the role (``Capability.SEGMENTS``); members are counted through
:mod:`db.segments.membership`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from itertools import combinations

import pandas as pd
from sqlalchemy import Connection, Engine, and_, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from db.core.access import Actor, Capability, require
from db.core.engine import get_engine
from db.core.types import utcnow
from db.models import Segment, SegmentSize
from db.segments.definition import InvalidDefinition
from db.segments.membership import SegmentError, count_where, member_condition
from db.segments.service import get_segment


@dataclass(frozen=True)
class SegmentRow:
    """One line of the saved-segment list."""

    id: int
    name: str
    description: str | None
    kind: str
    owner: str
    updated_at: datetime
    snapshot_at: datetime | None
    size: int  # -1: cannot be counted (refers to a deleted segment, or needs fixing)
    version: int


def list_segments(actor: Actor, *, engine: Engine | None = None) -> list[SegmentRow]:
    """Every saved segment with its current size (recorded in its size history)."""
    require(actor, Capability.SEGMENTS)
    engine = engine or get_engine()
    now = utcnow()
    rows = []
    with Session(engine) as session:
        segments = list(session.execute(select(Segment).order_by(func.lower(Segment.name)))
                        .scalars())
        session.expunge_all()
    with engine.connect() as connection:
        for segment in segments:
            assert segment.id is not None
            try:
                size = _size(connection, segment, now)
            except (SegmentError, InvalidDefinition):
                size = -1  # refers to a deleted segment or needs fixing: the list says so
            rows.append(SegmentRow(id=segment.id, name=segment.name,
                                   description=segment.description, kind=segment.kind,
                                   owner=segment.owner, updated_at=segment.updated_at,
                                   snapshot_at=segment.snapshot_at, size=size,
                                   version=segment.version))
    for row in rows:
        if row.size >= 0:
            _record_size(engine, row.id, now.date(), row.size)
    return rows


def segment_size(actor: Actor, segment_id: int, *, engine: Engine | None = None) -> int:
    """The size of a saved segment now (recorded in its size history)."""
    require(actor, Capability.SEGMENTS)
    engine = engine or get_engine()
    segment = get_segment(actor, segment_id, engine=engine)
    now = utcnow()
    with engine.connect() as connection:
        size = _size(connection, segment, now)
    _record_size(engine, segment_id, now.date(), size)
    return size


def size_history(actor: Actor, segment_id: int, *, engine: Engine | None = None
                 ) -> pd.DataFrame:
    """day, size: one row per day on which the segment was evaluated."""
    require(actor, Capability.SEGMENTS)
    with (engine or get_engine()).connect() as connection:
        rows = connection.execute(select(col(SegmentSize.day), col(SegmentSize.size))
                                  .where(col(SegmentSize.segment_id) == segment_id)
                                  .order_by(col(SegmentSize.day))).all()
    return pd.DataFrame(rows, columns=["day", "size"])


def overlap(actor: Actor, segment_ids: list[int], *, engine: Engine | None = None
            ) -> pd.DataFrame:
    """Pairwise overlaps of 2-4 saved segments: first, second, both, first's size, second's."""
    require(actor, Capability.SEGMENTS)
    if not 2 <= len(set(segment_ids)) <= 4:
        raise SegmentError("Choose two to four segments to compare.")
    engine = engine or get_engine()
    now = utcnow()
    chosen = [get_segment(actor, segment_id, engine=engine) for segment_id in segment_ids]
    with engine.connect() as connection:
        where = {segment.id: member_condition(segment, connection, now)
                 for segment in chosen}
        sizes = {segment_id: count_where(connection, condition)
                 for segment_id, condition in where.items()}
        names = {segment.id: segment.name for segment in chosen}
        rows = [{"first": names[a], "second": names[b],
                 "both": count_where(connection, and_(where[a], where[b])),
                 "first_size": sizes[a], "second_size": sizes[b]}
                for a, b in combinations(where, 2)]
    return pd.DataFrame(rows, columns=["first", "second", "both", "first_size",
                                       "second_size"])


def _size(connection: Connection, segment: Segment, as_of: datetime) -> int:
    return count_where(connection, member_condition(segment, connection, as_of))


def _record_size(engine: Engine, segment_id: int, day: date, size: int) -> None:
    """Keep the first size seen each day (a concurrent first evaluation loses quietly)."""
    upsert = (postgresql_insert if engine.dialect.name == "postgresql" else sqlite_insert)
    with engine.begin() as connection:
        connection.execute(upsert(SegmentSize).values(segment_id=segment_id, day=day,
                                                      size=size).on_conflict_do_nothing())
