"""Who is in a definition or a saved segment now: definitions compiled against the saved
segments they refer to, read through one connection.

A dynamic segment's members are its definition evaluated now; a static one's are its
snapshot, less customers deleted since. Every feature that counts or lists members (the
builder's preview, sizes, overlap, exports, the KPI page's segment filter) asks here, so
they all count the same customers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, Connection, Select, and_, func, select
from sqlmodel import Session, col

from db.derived.models import listed
from db.models import Segment, SegmentMember
from db.segments.compiler import Resolved, SegmentCycle, UnknownSegment, condition_of
from db.segments.definition import Group, parse
from db.segments.rows import S, rows_for


class SegmentError(ValueError):
    """A segment cannot be saved or used as asked; the message says why, in plain words."""


class SegmentChanged(SegmentError):
    """Someone saved the segment after the editor opened it; nothing was saved."""


class SegmentNotFound(LookupError):
    """No saved segment has this id (it may have been deleted)."""


def load(session: Session, segment_id: int) -> Segment:
    """The saved segment ``segment_id`` (:class:`SegmentNotFound` if there is none)."""
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise SegmentNotFound(f"Segment #{segment_id} no longer exists.")
    return segment


def stored_definition(text: str) -> Group:
    """A stored definition; one that no longer reads (an older format) is a SegmentError."""
    try:
        return parse(text)
    except ValidationError as error:
        raise SegmentError("This segment's stored definition can no longer be read; "
                           "build it again.") from error


def _resolver(connection: Connection) -> Callable[[int], Resolved]:
    def resolve(segment_id: int) -> Resolved:
        row = connection.execute(select(col(Segment.kind), col(Segment.definition))
                                 .where(col(Segment.id) == segment_id)).first()
        if row is None:
            return None
        if row.kind == "static":
            return select(col(SegmentMember.customer_id)).where(
                col(SegmentMember.segment_id) == segment_id)
        return stored_definition(row.definition)
    return resolve


def condition(connection: Connection, definition: Group, as_of: datetime,
              segment_id: int | None = None) -> ColumnElement[bool]:
    """The WHERE clause (over :func:`~db.segments.rows.rows_for` of it) of ``definition``,
    whose references to saved segments are read through ``connection``; a cycle or a
    deleted segment is a :class:`SegmentError`."""
    try:
        return condition_of(definition, as_of=as_of, resolve=_resolver(connection),
                            segment_id=segment_id)
    except (SegmentCycle, UnknownSegment) as error:
        raise SegmentError(str(error)) from error


def member_condition(segment: Segment, connection: Connection, as_of: datetime
                     ) -> ColumnElement[bool]:
    """WHERE clause (over :func:`~db.segments.rows.rows_for` of it) of a saved segment's
    members now.

    A static segment's members are its snapshot, less customers deleted since.
    """
    if segment.kind == "static":
        return and_(listed(), S.customer_id.in_(
            select(col(SegmentMember.customer_id))
            .where(col(SegmentMember.segment_id) == segment.id)))
    return condition(connection, stored_definition(segment.definition), as_of, segment.id)


def members_of(connection: Connection, segment_id: int, as_of: datetime) -> Select[Any]:
    """``SELECT customer_id`` of a saved segment's members now: the segment filter of other
    features (the KPI page), which check their own capability."""
    with Session(connection) as session:
        segment = load(session, segment_id)
    where = member_condition(segment, connection, as_of)
    return select(S.customer_id).select_from(rows_for(where)).where(where)


def count_where(connection: Connection, where: ColumnElement[bool]) -> int:
    """How many customers match ``where`` (a condition from this module)."""
    return connection.execute(select(func.count()).select_from(rows_for(where)).where(where)
                              ).scalar_one()
