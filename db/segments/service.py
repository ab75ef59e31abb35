"""Saved segments: evaluate, preview, save, edit, duplicate, delete, size history, overlap.

Every call checks the role (``Capability.SEGMENTS``), every write is audited in its own
transaction, and every evaluation goes through :mod:`db.segments.compiler`, so the builder's
preview, a saved segment's size, the overlap and the export all count the same customers.
Anyone who may build segments may use and duplicate every saved segment (lists are shared by
the team); editing and deleting are for the segment's owner and admins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import combinations

import pandas as pd
from pydantic import ValidationError
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from db import exports
from db.audit import trail
from db.core.access import Actor, Capability, PermissionDenied, require
from db.core.engine import get_engine, read_session, write_session
from db.core.sql import years_before
from db.core.types import utcnow
from db.customers.predicates import listed
from db.derived.models import CustomerSummary
from db.exports import ExportFile
from db.models import (
    SEGMENT_KINDS,
    Customer,
    Order,
    Segment,
    SegmentMember,
    SegmentSize,
    Tag,
)
from db.segments.compiler import (
    Resolved,
    SegmentCycle,
    UnknownSegment,
    condition_of,
    customer_rows,
    rows_for,
)
from db.segments.definition import Group, InvalidDefinition, parse, problems

C = Customer.__table__.c  # type: ignore[attr-defined]
S = CustomerSummary.__table__.c  # type: ignore[attr-defined]
SAMPLE_SIZE = 20
AGE_BANDS = ((0, 17, "under 18"), (18, 24, "18-24"), (25, 34, "25-34"), (35, 44, "35-44"),
             (45, 54, "45-54"), (55, 64, "55-64"), (65, 200, "65+"))
SPEND_BANDS_CENTS = ((None, 0, "no spend"), (1, 9_999, "under 100"),
                     (10_000, 49_999, "100-499"), (50_000, 99_999, "500-999"),
                     (100_000, None, "1,000+"))


class SegmentError(ValueError):
    """A segment cannot be saved or used as asked; the message says why, in plain words."""


class SegmentNotFound(LookupError):
    """No saved segment has this id (it may have been deleted)."""


@dataclass(frozen=True)
class Preview:
    """What the builder shows beside a definition."""

    count: int
    total: int
    emailable: int  # members with an email address who granted email-marketing consent
    sample: pd.DataFrame  # id, name, country, city, email consent
    by_country: pd.DataFrame  # group, members, everyone
    by_age: pd.DataFrame
    by_spend: pd.DataFrame

    @property
    def share(self) -> float:
        return self.count / self.total if self.total else 0.0


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
    size: int
    version: int


# -- evaluation -------------------------------------------------------------------------


def _resolver(connection: Connection) -> Callable[[int], Resolved]:
    def resolve(segment_id: int) -> Resolved:
        row = connection.execute(select(Segment.kind, Segment.definition)
                                 .where(Segment.id == segment_id)).first()
        if row is None:
            return None
        if row.kind == "static":
            return select(SegmentMember.customer_id).where(
                SegmentMember.segment_id == segment_id)
        return _stored_definition(row.definition)
    return resolve


def _stored_definition(text: str) -> Group:
    """A stored definition; one that no longer reads (an older format) is a SegmentError."""
    try:
        return parse(text)
    except ValidationError as error:
        raise SegmentError("This segment's stored definition can no longer be read; "
                           "build it again.") from error


def _check(definition: Group) -> None:
    if found := problems(definition):
        raise InvalidDefinition(found)


def _where(connection: Connection, definition: Group, as_of: datetime,
           segment_id: int | None = None) -> ColumnElement[bool]:
    try:
        return condition_of(definition, as_of=as_of, resolve=_resolver(connection),
                            segment_id=segment_id)
    except (SegmentCycle, UnknownSegment) as error:
        raise SegmentError(str(error)) from error


def count(actor: Actor, definition: Group, *, as_of: datetime | None = None,
          engine: Engine | None = None) -> int:
    """How many live customers ``definition`` matches now."""
    require(actor, Capability.SEGMENTS)
    with (engine or get_engine()).connect() as connection:
        return _count(connection, _where(connection, definition, as_of or utcnow()))


def population(actor: Actor, *, as_of: datetime | None = None,
               engine: Engine | None = None) -> pd.DataFrame:
    """All live customers counted by country, age band, spend band and email consent.

    The same for every definition, so the builder computes it once and passes it to
    :func:`preview` (it scans every customer: about a second for a million).
    """
    require(actor, Capability.SEGMENTS)
    with (engine or get_engine()).connect() as connection:
        return _cube(connection, listed(), as_of or utcnow())


def _emailable() -> ColumnElement[bool]:
    """Can be sent marketing email: consent granted and an address on file."""
    return and_(S.consent_email_marketing.is_(True), S.has_email.is_(True))


def _cube(connection: Connection, where: ColumnElement[bool], now: datetime) -> pd.DataFrame:
    """Customers matching ``where``, counted per country × age band × spend band × consent:
    at most a few thousand rows, from which every figure of the preview is summed."""
    groups = [S.country.label("country"), _age_band(now).label("age"),
              _spend_band().label("spend"),
              _emailable().label("emailable")]
    rows = connection.execute(select(*groups, func.count()).select_from(rows_for(where))
                              .where(where).group_by(*groups)).all()
    frame = pd.DataFrame(rows, columns=["country", "age", "spend", "emailable", "customers"])
    frame["country"] = frame["country"].fillna("unknown")
    frame["emailable"] = frame["emailable"].fillna(False).astype(bool)
    return frame


def preview(actor: Actor, definition: Group, *, as_of: datetime | None = None,
            everyone: pd.DataFrame | None = None, engine: Engine | None = None) -> Preview:
    """Count, share, emailable members, a sample and breakdowns against all customers.

    The definition is evaluated once (grouped into a small cube) plus once for the sample
    of 20; ``everyone`` is :func:`population`, computed here when not given.
    """
    require(actor, Capability.SEGMENTS)
    now = as_of or utcnow()
    with (engine or get_engine()).connect() as connection:
        where = _where(connection, definition, now)
        members = _cube(connection, where, now)
        if everyone is None:
            everyone = _cube(connection, listed(), now)
        sample = pd.DataFrame(connection.execute(
            select(C.id, (C.first_name + literal(" ") + C.last_name).label("name"),
                   C.country, C.city, _emailable().label("emailable"))
            .select_from(customer_rows()).where(where).order_by(S.customer_id)
            .limit(SAMPLE_SIZE)
        ).all(), columns=["id", "name", "country", "city", "emailable"])
    return Preview(
        count=int(members["customers"].sum()), total=int(everyone["customers"].sum()),
        emailable=int(members.loc[members["emailable"], "customers"].sum()), sample=sample,
        by_country=_breakdown(members, everyone, "country"),
        by_age=_breakdown(members, everyone, "age",
                          [label for _, _, label in AGE_BANDS] + ["unknown"]),
        by_spend=_breakdown(members, everyone, "spend",
                            [label for _, _, label in SPEND_BANDS_CENTS]),
    )


def _breakdown(members: pd.DataFrame, everyone: pd.DataFrame, column: str,
               order: list[str] | None = None) -> pd.DataFrame:
    """group, members, everyone: the two cubes summed over one dimension, in ``order``
    (bands) or largest first (countries)."""
    counted = pd.concat([members.groupby(column)["customers"].sum().rename("members"),
                         everyone.groupby(column)["customers"].sum().rename("everyone")],
                        axis=1).fillna(0).astype(int)
    frame = counted.rename_axis("group").reset_index()
    if order is None:
        return frame.sort_values("everyone", ascending=False, ignore_index=True)
    rank = {label: index for index, label in enumerate(order)}
    return frame.sort_values("group", key=lambda groups: groups.map(rank),
                             ignore_index=True)


def _age_band(now: datetime) -> ColumnElement[str]:
    today = now.astimezone(UTC).date()
    whens = [(and_(S.birth_date <= years_before(today, low),
                   S.birth_date > years_before(today, high + 1)), label)
             for low, high, label in AGE_BANDS]
    return case(*whens, else_=literal("unknown"))


def _spend_band() -> ColumnElement[str]:
    spend = func.coalesce(S.spend_cents, 0)
    whens = []
    for low, high, label in SPEND_BANDS_CENTS:
        if low is None:
            whens.append((spend <= high, label))
        elif high is None:
            whens.append((spend >= low, label))
        else:
            whens.append((spend.between(low, high), label))
    return case(*whens, else_=literal("unknown"))


# -- saved segments ---------------------------------------------------------------------


def _load(session: Session, segment_id: int) -> Segment:
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise SegmentNotFound(f"Segment #{segment_id} no longer exists.")
    return segment


def get_segment(actor: Actor, segment_id: int, *, engine: Engine | None = None) -> Segment:
    require(actor, Capability.SEGMENTS)
    with read_session(engine) as session:
        return _load(session, segment_id)


def definition_of(segment: Segment) -> Group:
    """The segment's definition (SegmentError if it can no longer be read)."""
    return _stored_definition(segment.definition)


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
    if kind not in SEGMENT_KINDS:
        errors.append("Choose dynamic or static.")
    if errors:
        raise SegmentError(" ".join(errors))
    return name, description


def _name_taken(session: Session, name: str, except_id: int | None = None) -> bool:
    query = select(Segment.id).where(func.lower(Segment.name) == name.lower())
    if except_id is not None:
        query = query.where(Segment.id != except_id)
    return session.execute(query).first() is not None


def _may_change(actor: Actor, segment: Segment) -> None:
    if segment.owner != actor.username and actor.role != "admin":
        raise PermissionDenied(f"Only {segment.owner} (the owner) or an admin can change "
                               f"“{segment.name}”; duplicate it to make your own.")


def _snapshot(session: Session, segment: Segment, definition: Group, now: datetime) -> int:
    """Store the current members of a static segment; returns how many."""
    assert segment.id is not None
    session.execute(delete(SegmentMember).where(SegmentMember.segment_id == segment.id))
    connection = session.connection()
    where = _where(connection, definition, now, segment.id)
    chosen = select(literal(segment.id), S.customer_id).select_from(rows_for(where)).where(where)
    session.execute(insert(SegmentMember).from_select(["segment_id", "customer_id"], chosen))
    segment.snapshot_at = now
    return session.execute(select(func.count()).select_from(SegmentMember)
                           .where(SegmentMember.segment_id == segment.id)).scalar_one()


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
        _where(session.connection(), definition, now, segment.id)
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


def _copy_snapshot(session: Session, original: Segment, copy: Segment) -> int:
    session.execute(insert(SegmentMember).from_select(
        ["segment_id", "customer_id"],
        select(literal(copy.id), SegmentMember.customer_id)
        .where(SegmentMember.segment_id == original.id)))
    copy.snapshot_at = original.snapshot_at
    return session.execute(select(func.count()).select_from(SegmentMember)
                           .where(SegmentMember.segment_id == copy.id)).scalar_one()


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

    A static segment takes a fresh snapshot of its members when saved.
    """
    require(actor, Capability.SEGMENTS)
    name, description = _clean(name, description, kind)
    _check(definition)
    now = utcnow()
    try:
        with write_session(engine) as session:
            segment = _load(session, segment_id)
            _may_change(actor, segment)
            if segment.version != expected_version:
                raise SegmentError("Someone saved this segment after you opened it. Reload "
                                   "it to see their version; yours was not saved.")
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
            _where(session.connection(), definition, now, segment_id)
            if kind == "static":
                changes["members"] = [None, _snapshot(session, segment, definition, now)]
            elif before["kind"] == "static":
                session.execute(delete(SegmentMember)
                                .where(SegmentMember.segment_id == segment_id))
                segment.snapshot_at = None
            if "definition" in changes or "kind" in changes:
                # Today's recorded size was of the old definition; the next count records anew.
                session.execute(delete(SegmentSize).where(SegmentSize.segment_id == segment_id,
                                                          SegmentSize.day == now.date()))
            if changes:
                trail.record(session, actor=actor.username, action="segment.update",
                             entity="segment", entity_id=segment_id, changes=changes,
                             source="form")
            session.flush()
            session.refresh(segment)
            session.expunge(segment)
            return segment
    except StaleDataError as error:
        raise SegmentError("Someone saved this segment at the same moment. Reload it; "
                           "yours was not saved.") from error


def duplicate_segment(actor: Actor, segment_id: int, *, engine: Engine | None = None
                      ) -> Segment:
    """A copy owned by ``actor``, named "<name> (copy)" (or "(copy 2)", …)."""
    require(actor, Capability.SEGMENTS)
    original = get_segment(actor, segment_id, engine=engine)
    with read_session(engine) as session:
        number = 1
        name = f"{original.name[:90]} (copy)"
        while _name_taken(session, name):
            number += 1
            name = f"{original.name[:90]} (copy {number})"
    return _create(actor, name=name, description=original.description, kind=original.kind,
                   definition=_stored_definition(original.definition), engine=engine,
                   members_of=original)


def _users_of(session: Session, segment_id: int) -> list[str]:
    """Names of the other segments whose definitions refer to ``segment_id``."""
    others = session.execute(select(Segment.name, Segment.definition)
                             .where(Segment.id != segment_id))
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
        segment = _load(session, segment_id)
        _may_change(actor, segment)
        if users := _users_of(session, segment_id):
            raise SegmentError(f"“{segment.name}” is used by {', '.join(sorted(users))}; "
                               "change those first.")
        trail.record(session, actor=actor.username, action="segment.delete", entity="segment",
                     entity_id=segment_id,
                     changes={"name": segment.name, "kind": segment.kind,
                              "definition": _audit_definition(segment.definition)},
                     source="form")
        session.delete(segment)


def member_condition(segment: Segment, connection: Connection, as_of: datetime
                     ) -> ColumnElement[bool]:
    """WHERE clause (over :func:`~db.segments.compiler.rows_for` of it) of a saved segment's
    members now.

    A static segment's members are its snapshot, less customers deleted since.
    """
    if segment.kind == "static":
        return and_(listed(), S.customer_id.in_(select(SegmentMember.customer_id)
                                                .where(SegmentMember.segment_id == segment.id)))
    return _where(connection, _stored_definition(segment.definition), as_of, segment.id)


def members_of(connection: Connection, segment_id: int, as_of: datetime) -> Select:
    """``SELECT customer_id`` of a saved segment's members now: the segment filter of other
    features (the KPI page), which check their own capability."""
    with Session(connection) as session:
        segment = _load(session, segment_id)
    where = member_condition(segment, connection, as_of)
    return select(S.customer_id).select_from(rows_for(where)).where(where)


def _count(connection: Connection, where: ColumnElement[bool]) -> int:
    return connection.execute(select(func.count()).select_from(rows_for(where)).where(where)
                              ).scalar_one()


def _size(connection: Connection, segment: Segment, as_of: datetime) -> int:
    return _count(connection, member_condition(segment, connection, as_of))


def _record_size(engine: Engine, segment_id: int, day: date, size: int) -> None:
    """Keep the first size seen each day (a concurrent first evaluation loses quietly)."""
    upsert = (postgresql_insert if engine.dialect.name == "postgresql" else sqlite_insert)
    with engine.begin() as connection:
        connection.execute(upsert(SegmentSize).values(segment_id=segment_id, day=day,
                                                      size=size).on_conflict_do_nothing())


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
            try:
                size = _size(connection, segment, now)
            except (SegmentError, InvalidDefinition):
                size = -1  # refers to a deleted segment or needs fixing: the list says so
            rows.append(SegmentRow(id=segment.id, name=segment.name,  # type: ignore[arg-type]
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
        rows = connection.execute(select(SegmentSize.day, SegmentSize.size)
                                  .where(SegmentSize.segment_id == segment_id)
                                  .order_by(SegmentSize.day)).all()
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
        sizes = {segment_id: _count(connection, condition)
                 for segment_id, condition in where.items()}
        names = {segment.id: segment.name for segment in chosen}
        rows = [{"first": names[a], "second": names[b],
                 "both": _count(connection, and_(where[a], where[b])),
                 "first_size": sizes[a], "second_size": sizes[b]}
                for a, b in combinations(where, 2)]
    return pd.DataFrame(rows, columns=["first", "second", "both", "first_size",
                                       "second_size"])


# -- export -----------------------------------------------------------------------------


def export_members(actor: Actor, segment_id: int, *, fmt: str = "csv",
                   include_without_consent: bool = False,
                   engine: Engine | None = None) -> ExportFile:
    """The segment's members as CSV or Excel, audited with who, which segment, how many.

    Only members who granted email-marketing consent are exported, unless an admin asks
    for everyone (``include_without_consent``, recorded in the audit trail): the policy of
    :mod:`db.exports`, which every customer export shares.
    """
    try:
        exports.check(actor, fmt=fmt, include_without_consent=include_without_consent)
    except exports.ExportError as error:
        raise SegmentError(str(error)) from error
    engine = engine or get_engine()
    segment = get_segment(actor, segment_id, engine=engine)
    with engine.connect() as connection:
        where = member_condition(segment, connection, utcnow())
        frame = exports.customer_frame(connection, exports.exportable(
            where, include_without_consent=include_without_consent))
    try:
        exported = exports.write(frame, fmt=fmt, name=segment.name, fallback="segment",
                                 rows_are="members")
    except exports.ExportError as error:
        raise SegmentError(str(error)) from error
    with write_session(engine) as session:
        trail.record(session, actor=actor.username, action="segment.export", entity="segment",
                     entity_id=segment_id,
                     changes={"name": segment.name, "rows": len(frame), "format": fmt,
                              "without_consent": include_without_consent}, source="form")
    return exported


def field_options(actor: Actor, *, engine: Engine | None = None) -> dict[str, list[str]]:
    """The values in the data for the builder's pick lists: countries, categories, tags."""
    require(actor, Capability.SEGMENTS)
    with (engine or get_engine()).connect() as connection:
        def distinct(column: ColumnElement) -> list[str]:
            return [value for value in connection.execute(
                select(column).distinct().order_by(column)).scalars() if value]
        return {"country": distinct(C.country), "category": distinct(Order.category),
                "tags": distinct(Tag.name)}


def segment_names(actor: Actor, *, engine: Engine | None = None) -> dict[int, str]:
    """id → name of every saved segment, for pick lists (cheap: nothing is evaluated)."""
    require(actor, Capability.SEGMENTS)
    with (engine or get_engine()).connect() as connection:
        return dict(connection.execute(select(Segment.id, Segment.name)
                                       .order_by(func.lower(Segment.name))).all())


def catalogue_stamp(actor: Actor, *, engine: Engine | None = None) -> tuple[int, str]:
    """(how many segments, latest change): changes whenever a segment is saved or deleted,
    so a page can cache the costly list of sizes until then."""
    require(actor, Capability.SEGMENTS)
    with (engine or get_engine()).connect() as connection:
        count, latest = connection.execute(select(func.count(), func.max(Segment.updated_at))
                                           ).one()
    return count, str(latest)
