"""Saved segments: save, edit, duplicate and delete them, and who may change which.

Every call checks the role (``Capability.SEGMENTS``) and every write is audited in its own
transaction. Anyone who may build segments may use and duplicate every saved segment (lists
are shared by the team); editing and deleting are for the segment's owner and for whoever
administers the database (:func:`may_change`, which pages ask). A static segment keeps a
snapshot of its members, taken through :mod:`db.segments.membership` like every count.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from pydantic import ValidationError
from sqlalchemy import Engine, delete, func, insert, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col

from db.audit import recent, trail
from db.core.access import Actor, Capability, PermissionDenied, require
from db.core.engine import get_engine, read_session, write_session
from db.core.sql import table_of
from db.core.text import control_problem
from db.core.types import utcnow
from db.models import SEGMENT_KINDS, Customer, Segment, SegmentMember, SegmentSize, live
from db.segments.definition import Group, InvalidDefinition, parse, problems
from db.segments.membership import (
    SegmentChanged,
    SegmentError,
    condition,
    load,
    stored_definition,
)
from db.segments.rows import S, rows_for


class AlreadyDuplicated(SegmentError):
    """The same person copied this segment moments ago (a double click); no second copy
    was made. ``copy`` is the one made."""

    def __init__(self, copy: Segment) -> None:
        super().__init__(f"It was copied moments ago as “{copy.name}”; no second copy was "
                         "made.")
        self.copy = copy


class Owned(Protocol):
    """A saved segment, or a line of the list of them: anything that names its owner."""

    @property
    def owner(self) -> str: ...


def may_change(actor: Actor, segment: Owned) -> bool:
    """Whether ``actor`` may edit or delete ``segment``: its owner, or an administrator.

    Everyone else may use and duplicate it; pages ask this to offer only what is allowed.
    """
    return segment.owner == actor.username or actor.can(Capability.ADMINISTER)


def get_segment(actor: Actor, segment_id: int, *, engine: Engine | None = None) -> Segment:
    require(actor, Capability.SEGMENTS)
    with read_session(engine) as session:
        return load(session, segment_id)


def definition_of(segment: Segment) -> Group:
    """The segment's definition (SegmentError if it can no longer be read)."""
    return stored_definition(segment.definition)


def _clean(name: str, description: str | None, kind: str) -> tuple[str, str | None]:
    errors = []
    name = " ".join((name or "").split())
    if not name:
        errors.append("Give the segment a name.")
    elif len(name) > 100:
        errors.append("Names are at most 100 characters.")
    description = (description or "").strip() or None
    if description and len(description) > 1000:
        errors.append("Descriptions are at most 1,000 characters.")
    for label, text, multiline in (("Name", name, False), ("Description", description, True)):
        if problem := control_problem(text or "", multiline=multiline):
            errors.append(f"{label}: {problem}")
    if kind not in SEGMENT_KINDS:
        errors.append("Choose dynamic or static.")
    if errors:
        raise SegmentError(" ".join(errors))
    return name, description


def _name_taken(session: Session, name: str, except_id: int | None = None) -> bool:
    query = select(col(Segment.id)).where(func.lower(col(Segment.name)) == name.lower())
    if except_id is not None:
        query = query.where(col(Segment.id) != except_id)
    return session.execute(query).first() is not None


def _check(definition: Group) -> None:
    if found := problems(definition):
        raise InvalidDefinition(found)


def _require_change(actor: Actor, segment: Segment) -> None:
    if not may_change(actor, segment):
        raise PermissionDenied(f"Only {segment.owner} (the owner) or an admin can change "
                               f"“{segment.name}”; duplicate it to make your own.")


def _snapshot(session: Session, segment: Segment, definition: Group, now: datetime) -> int:
    """Store the current members of a static segment; returns how many."""
    assert segment.id is not None
    session.execute(delete(SegmentMember).where(col(SegmentMember.segment_id) == segment.id))
    connection = session.connection()
    where = condition(connection, definition, now, segment.id)
    chosen = select(literal(segment.id), S.customer_id).select_from(rows_for(where)).where(where)
    session.execute(insert(SegmentMember).from_select(["segment_id", "customer_id"], chosen))
    segment.snapshot_at = now
    return session.execute(select(func.count()).select_from(SegmentMember)
                           .where(col(SegmentMember.segment_id) == segment.id)).scalar_one()


def save_segment(actor: Actor, *, name: str, description: str | None, kind: str,
                 definition: Group, engine: Engine | None = None) -> Segment:
    """Save a new segment (a static one with its members as of now)."""
    return _create(actor, name=name, description=description, kind=kind,
                   definition=definition, engine=engine)


def _create(actor: Actor, *, name: str, description: str | None, kind: str, definition: Group,
            engine: Engine | None, members_of: Segment | None = None) -> Segment:
    """Insert a segment; a static one gets a snapshot (``members_of``'s, when copying)."""
    require(actor, Capability.SEGMENTS)
    name, description = _clean(name, description, kind)
    _check(definition)
    now = utcnow()
    with write_session(engine) as session:
        if _name_taken(session, name):
            raise SegmentError(f"A segment named “{name}” already exists.")
        segment = Segment(name=name, description=description, kind=kind,
                          definition=definition.model_dump_json(), owner=actor.username,
                          created_at=now, updated_at=now)
        session.add(segment)
        try:
            session.flush()
        except IntegrityError as error:  # a concurrent save took the name
            raise SegmentError(f"A segment named “{name}” already exists.") from error
        # Compiling now, in this transaction, refuses references to deleted segments.
        condition(session.connection(), definition, now, segment.id)
        size = None
        if kind == "static" and members_of is not None:
            size = _copy_snapshot(session, members_of, segment)
        elif kind == "static":
            size = _snapshot(session, segment, definition, now)
        trail.record(session, actor=actor.username, action="segment.create", entity="segment",
                     entity_id=segment.id,
                     changes={"name": name, "kind": kind, "description": description,
                              "definition": definition.model_dump(mode="json"),
                              "members": size, "copy_of": members_of.id if members_of
                              else None}, source="form")
        session.flush()
        session.refresh(segment)
        session.expunge(segment)
        return segment


# The stored definition of a static segment saved from a list of customers (the data quality
# report's lists): no definition names customers one by one, so it holds an empty ANY group,
# which matches nobody. Its members are the list (:func:`save_static_list`), and saving such a
# segment again with this definition keeps them instead of re-evaluating it to nobody.
LIST_DEFINITION = Group(match="any")
_ID_BATCH = 10_000  # ids per statement: far below either engine's parameter limit


def save_static_list(actor: Actor, *, name: str, description: str | None,
                     customer_ids: Iterable[int], origin: str,
                     engine: Engine | None = None) -> Segment:
    """A static segment owned by ``actor`` whose members are ``customer_ids`` (those still
    live; anyone else is left out), as of now, audited as ``segment.create`` with how many
    members and ``origin`` (what the list was, e.g. "data quality: invalid e-mail").

    The name is checked as every segment's is; a name in use (any case) is refused with
    the name in the message, nothing saved.
    """
    require(actor, Capability.SEGMENTS)
    name, description = _clean(name, description, "static")
    if problem := control_problem(origin):
        raise SegmentError(problem)
    wanted = sorted(set(customer_ids))
    now = utcnow()
    with write_session(engine) as session:
        if _name_taken(session, name):
            raise SegmentError(f"A segment named “{name}” already exists; choose another "
                               "name.")
        segment = Segment(name=name, description=description, kind="static",
                          definition=LIST_DEFINITION.model_dump_json(), owner=actor.username,
                          created_at=now, updated_at=now, snapshot_at=now)
        session.add(segment)
        try:
            session.flush()
        except IntegrityError as error:  # a concurrent save took the name
            raise SegmentError(f"A segment named “{name}” already exists; choose another "
                               "name.") from error
        customers = table_of(Customer).c
        size = 0
        for start in range(0, len(wanted), _ID_BATCH):
            batch = wanted[start:start + _ID_BATCH]
            present = session.execute(select(customers.id).where(
                customers.id.in_(batch), live())).scalars().all()
            if present:
                session.execute(insert(SegmentMember), [
                    {"segment_id": segment.id, "customer_id": customer_id}
                    for customer_id in present])
            size += len(present)
        trail.record(session, actor=actor.username, action="segment.create", entity="segment",
                     entity_id=segment.id,
                     changes={"name": name, "kind": "static", "description": description,
                              "from_list": origin, "listed": len(wanted), "members": size},
                     source="form")
        session.flush()
        session.refresh(segment)
        session.expunge(segment)
        return segment


def _copy_snapshot(session: Session, original: Segment, copy: Segment) -> int:
    session.execute(insert(SegmentMember).from_select(
        ["segment_id", "customer_id"],
        select(literal(copy.id), col(SegmentMember.customer_id))
        .where(col(SegmentMember.segment_id) == original.id)))
    copy.snapshot_at = original.snapshot_at
    return session.execute(select(func.count()).select_from(SegmentMember)
                           .where(col(SegmentMember.segment_id) == copy.id)).scalar_one()


def _audit_definition(text: str) -> object:
    """A stored definition for the audit trail (as stored, if it no longer reads)."""
    try:
        return parse(text).model_dump(mode="json")
    except ValidationError:
        return text


def update_segment(actor: Actor, segment_id: int, *, expected_version: int, name: str,
                   description: str | None, kind: str, definition: Group,
                   engine: Engine | None = None) -> Segment:
    """Save changes to a segment the editor opened at ``expected_version``.

    A static segment takes a fresh snapshot of its members when saved, except one saved
    from a list (:data:`LIST_DEFINITION`, unchanged), which keeps its members.
    """
    require(actor, Capability.SEGMENTS)
    name, description = _clean(name, description, kind)
    _check(definition)
    now = utcnow()
    try:
        with write_session(engine) as session:
            segment = load(session, segment_id)
            _require_change(actor, segment)
            if segment.version != expected_version:
                raise SegmentChanged("Someone saved this segment after you opened it; "
                                     "yours was not saved.")
            if _name_taken(session, name, except_id=segment_id):
                raise SegmentError(f"A segment named “{name}” already exists.")
            before = {"name": segment.name, "description": segment.description,
                      "kind": segment.kind, "definition": _audit_definition(segment.definition)}
            after = {"name": name, "description": description, "kind": kind,
                     "definition": definition.model_dump(mode="json")}
            changes = {key: [before[key], after[key]] for key in after
                       if before[key] != after[key]}
            if not changes and kind == "dynamic":  # nothing to save, nothing to audit
                session.expunge(segment)
                return segment
            segment.name, segment.description, segment.kind = name, description, kind
            segment.definition = definition.model_dump_json()
            segment.updated_at = now
            # A saved definition must not reach itself through other segments.
            condition(session.connection(), definition, now, segment_id)
            keeps_list = (before["kind"] == "static" and kind == "static"
                          and "definition" not in changes and definition == LIST_DEFINITION)
            if kind == "static":
                if not keeps_list:
                    changes["members"] = [None, _snapshot(session, segment, definition, now)]
            elif before["kind"] == "static":
                session.execute(delete(SegmentMember)
                                .where(col(SegmentMember.segment_id) == segment_id))
                segment.snapshot_at = None
            if "definition" in changes or "kind" in changes:
                # Today's recorded size was of the old definition; the next count records anew.
                session.execute(delete(SegmentSize).where(
                    col(SegmentSize.segment_id) == segment_id,
                    col(SegmentSize.day) == now.date()))
            if changes:
                trail.record(session, actor=actor.username, action="segment.update",
                             entity="segment", entity_id=segment_id, changes=changes,
                             source="form")
            session.flush()
            session.refresh(segment)
            session.expunge(segment)
            return segment
    except StaleDataError as error:
        raise SegmentChanged("Someone saved this segment at the same moment; yours was not "
                             "saved.") from error


def duplicate_segment(actor: Actor, segment_id: int, *, engine: Engine | None = None
                      ) -> Segment:
    """A copy owned by ``actor``, named "<name> (copy)" (or "(copy 2)", …).

    A copy of the same segment that ``actor`` made within the double-submit window and that
    still exists raises :class:`AlreadyDuplicated` (the second click of a double click)."""
    require(actor, Capability.SEGMENTS)
    original = get_segment(actor, segment_id, engine=engine)
    with read_session(engine) as session:
        for write in recent.recent_writes(session, actor.username, action="segment.create",
                                          entity="segment"):
            if write.changes.get("copy_of") == segment_id and write.entity_id and (
                    copy := session.get(Segment, int(write.entity_id))) is not None:
                session.expunge(copy)
                raise AlreadyDuplicated(copy)
        number = 1
        name = f"{original.name[:90]} (copy)"
        while _name_taken(session, name):
            number += 1
            name = f"{original.name[:90]} (copy {number})"
    return _create(actor, name=name, description=original.description, kind=original.kind,
                   definition=stored_definition(original.definition), engine=engine,
                   members_of=original)


def _users_of(session: Session, segment_id: int) -> list[str]:
    """Names of the other segments whose definitions refer to ``segment_id``."""
    others = session.execute(select(col(Segment.name), col(Segment.definition))
                             .where(col(Segment.id) != segment_id))
    found = []
    for name, text in others:
        try:
            if segment_id in _referenced(parse(text)):
                found.append(name)
        except ValidationError:
            continue  # unreadable: it cannot be evaluated, so it cannot depend on anything
    return found


def _referenced(group: Group) -> set[int]:
    found: set[int] = set()
    for child in group.children:
        if isinstance(child, Group):
            found |= _referenced(child)
        elif child.field == "segment" and isinstance(child.value, int):
            found.add(child.value)
    return found


def delete_segment(actor: Actor, segment_id: int, *, engine: Engine | None = None) -> None:
    """Delete a segment, its snapshot and its size history (refused while others use it)."""
    require(actor, Capability.SEGMENTS)
    with write_session(engine) as session:
        segment = load(session, segment_id)
        _require_change(actor, segment)
        if users := _users_of(session, segment_id):
            raise SegmentError(f"“{segment.name}” is used by {', '.join(sorted(users))}; "
                               "change those first.")
        trail.record(session, actor=actor.username, action="segment.delete", entity="segment",
                     entity_id=segment_id,
                     changes={"name": segment.name, "kind": segment.kind,
                              "definition": _audit_definition(segment.definition)},
                     source="form")
        session.delete(segment)


def segment_names(actor: Actor, *, usable_in: int | None = None,
                  engine: Engine | None = None) -> dict[int, str]:
    """id → name of every saved segment, for pick lists (cheap: nothing is evaluated).

    ``usable_in`` is the saved segment whose definition is being edited: it is left out, as
    a segment cannot include itself.
    """
    require(actor, Capability.SEGMENTS)
    segments = table_of(Segment).c
    query = select(segments.id, segments.name).order_by(func.lower(segments.name))
    if usable_in is not None:
        query = query.where(segments.id != usable_in)
    with (engine or get_engine()).connect() as connection:
        return {segment_id: name for segment_id, name in connection.execute(query)}


def recently_saved(actor: Actor, limit: int, *, engine: Engine | None = None) -> list[int]:
    """The ids of the ``limit`` segments saved last, newest first: the ones most likely to be
    opened next, for warming their figures (cheap: nothing is evaluated)."""
    require(actor, Capability.SEGMENTS)
    segments = table_of(Segment).c
    query = (select(segments.id).order_by(segments.updated_at.desc(), segments.id.desc())
             .limit(limit))
    with (engine or get_engine()).connect() as connection:
        return list(connection.execute(query).scalars())


def catalogue_stamp(actor: Actor, *, engine: Engine | None = None) -> tuple[int, str]:
    """(how many segments, latest change): changes whenever a segment is saved or deleted,
    so a page can cache the costly list of sizes until then."""
    require(actor, Capability.SEGMENTS)
    with (engine or get_engine()).connect() as connection:
        count, latest = connection.execute(select(func.count(), func.max(Segment.updated_at))
                                           ).one()
    return count, str(latest)

