"""Merge two records of one person into one: the survivor keeps, field by field, its own
value or the merged record's; every row that belongs to the merged record moves to it.

**Field choices.** ``keep`` maps a field of :data:`MERGEABLE` to ``"survivor"`` or
``"merged"``. A field it does not name keeps the survivor's value, except that an empty
survivor value (None or blank) is filled from the merged record. The address is one unit
for that default: when the survivor has no street, postcode or city at all, it takes the
merged record's three, and otherwise keeps its own (so two addresses are never spliced).
The survivor's dates (``created_at``), status flags and id stay. :func:`merge_plan` shows
both records' values with the default choice, for the page.

**What moves.** Every table with a foreign key to ``customer.id`` (read from the model
metadata at each merge, so a table added later is refused until :data:`RULES` says how it
follows a merge, and ``tests/quality/test_merge.py`` fails for it):
- orders, interactions, feedback, payment methods: re-pointed to the survivor;
- consent history: re-pointed too. ``consent_event`` is append-only, and its triggers
  (migration ``0009_merge``) allow one change: ``customer_id`` alone, from a customer
  whose ``merged_into_id`` is the new value. So nothing of the evidence (purpose, time,
  source, notice, recorder) changes, the survivor's consent state is its newest row per
  purpose across both histories, derived by the same query as everyone's, and the audit
  event says which rows came from where;
- tags and static-segment places: the union, without duplicate rows (a place the survivor
  already holds is dropped, and counted);
- objection and restriction markers: moved; a marker open on both is closed on the merged
  record's row first ("merged into customer N"), as at most one may be open per kind;
- records merged into the merged one earlier: re-pointed to the survivor, so every pointer
  is one hop (:class:`db.customers.service.CustomerMerged` relies on it);
- ``customer_summary`` and the ranked newest orders and contacts: derived, recomputed by
  :func:`db.derived.hook.customers_changed` for both ids with the KPI tables and the search
  index.
- candidate pairs naming the merged record: deleted (the merge answers them); reviewers'
  verdicts stay as given.
The audit trail (no foreign key) stays as it was: each record's history under its own id.

**The merged record** keeps its row with ``merged_into_id`` set: not live (lookup,
segments, KPI customer counts leave it out), and its profile link leads to the survivor.
It keeps its values, except a unique one (e-mail, customer number) the survivor takes.

**Refused:** a merge with itself, with an erased, already merged or soft-deleted record
(:class:`MergeRefused` says which and why), and a record changed since the page read it
(:class:`MergeConflict`, naming who changed which fields). Both rows are locked in id
order first, so two merges of overlapping pairs queue on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    CursorResult,
    Delete,
    Engine,
    Table,
    Update,
    delete,
    func,
    select,
    update,
)
from sqlmodel import Session, SQLModel, col

from db.audit import trail
from db.core.access import Actor, Capability, require
from db.core.engine import read_session, write_session
from db.core.fields import InvalidFields
from db.core.sql import table_of
from db.core.types import utcnow
from db.customers.service import CustomerNotFound, StaleRecord
from db.derived.hook import customers_changed
from db.models import AuditEvent, Customer, lock_customers

MERGEABLE = ("first_name", "last_name", "email", "phone", "street", "postcode", "city",
             "country", "birth_date", "gender", "occupation", "income_band",
             "preferred_channel", "status", "source", "external_ref")
ADDRESS = ("street", "postcode", "city")
UNIQUE = ("email", "external_ref")  # cleared on the merged record when the survivor takes it
CHOICES = ("survivor", "merged")

MOVE, UNION, MARKERS, POINTER, DERIVED = "move", "union", "markers", "pointer", "derived"
RESOLVED, HISTORY = "resolved", "history"
# How each table with a foreign key to customer.id follows a merge (see the docstring).
RULES: dict[str, str] = {
    "orders": MOVE, "interaction": MOVE, "feedback": MOVE, "payment_method": MOVE,
    "consent_event": MOVE,  # append-only: its triggers allow exactly this (0009_merge)
    "customer_tag": UNION, "segment_member": UNION,
    "customer_restriction": MARKERS,
    "customer": POINTER,  # merged_into_id of records merged into the merged one
    "customer_summary": DERIVED,  # recomputed by the derived hook
    "order_ranks": DERIVED, "contact_ranks": DERIVED, "category_buyers": DERIVED,  # likewise
    "customer_name_word": DERIVED,  # the lookup's name words, rewritten with the index
    "duplicate_candidate": RESOLVED,  # pairs naming the merged record: answered by the merge
    "duplicate_decision": HISTORY,  # reviewers' verdicts stay as they were given
    # The merged record is no longer live, so its scores go; the survivor keeps its own
    # until the next fit scores the joined history.
    "customer_prediction": RESOLVED,
}
CUSTOMER = table_of(Customer)


class MergeRefused(ValueError):
    """These two records cannot be merged; the message says why. Nothing was written."""


class UnhandledTable(RuntimeError):
    """A table references customers but :data:`RULES` does not say how it follows a merge."""


class MergeConflict(StaleRecord):
    """One of the records changed since the page read it: who changed what. Nothing was
    merged; reload the comparison."""

    def __init__(self, current: Customer, changes: list[AuditEvent]) -> None:
        super().__init__(current, changes)
        who = ", ".join(sorted({event.actor for event in changes})) or "someone"
        fields = sorted({name for event in changes for name in _fields_of(event)})
        what = ", ".join(fields) if fields else "the record"
        self.args = (f"{who} changed customer {current.id} ({what}) after you opened the "
                     "merge. Reload the comparison; nothing was merged.",)


@dataclass(frozen=True)
class PlanField:
    """One field of both records and the choice a merge makes without ``keep``."""

    name: str
    survivor: Any
    merged: Any
    default: str  # "survivor" or "merged"


@dataclass(frozen=True)
class MergePlan:
    """Both records side by side, the versions to pass to :func:`merge_customers`, and how
    many rows each holds per table that moves."""

    survivor_id: int
    merged_id: int
    survivor_version: int
    merged_version: int
    fields: list[PlanField]
    rows: dict[str, tuple[int, int]]  # table: (the survivor's rows, the merged record's)


@dataclass(frozen=True)
class Merged:
    """What a merge did."""

    survivor_id: int
    merged_id: int
    survivor_version: int  # the survivor's version after the merge
    fields: dict[str, list[Any]]  # the survivor's fields that changed: [old, new]
    moved: dict[str, int]  # rows re-pointed to the survivor, per table
    dropped: dict[str, int]  # rows the survivor already had (tags, places), markers closed


def customer_references() -> list[Column[Any]]:
    """Every column, in every table the models declare, with a foreign key to customer.id."""
    return [column for table in SQLModel.metadata.sorted_tables for column in table.columns
            if any(key.column.table.name == "customer" and key.column.name == "id"
                   for key in column.foreign_keys)]


def unhandled_tables() -> list[str]:
    """Tables that reference customers without a rule for merging (should be none)."""
    return sorted({column.table.name for column in customer_references()} - set(RULES))


def default_choices(survivor: Mapping[str, Any], merged: Mapping[str, Any]) -> dict[str, str]:
    """Per field of :data:`MERGEABLE`: the survivor's value, unless it is empty and the
    merged record's is not; the address as one unit (see the module docstring)."""
    no_address = not any(_filled(survivor[name]) for name in ADDRESS)
    choices = {}
    for name in MERGEABLE:
        empty = no_address if name in ADDRESS else not _filled(survivor[name])
        choices[name] = "merged" if empty and _filled(merged[name]) else "survivor"
    return choices


def merge_plan(actor: Actor, survivor_id: int, merged_id: int,
               engine: Engine | None = None) -> MergePlan:
    """Both records field by field with the default choice, and their rows per table;
    refuses what :func:`merge_customers` would refuse (except a version conflict)."""
    require(actor, Capability.EDIT_CUSTOMER)
    _refuse_self(survivor_id, merged_id)
    with read_session(engine) as session:
        survivor = load_mergeable(session, survivor_id)
        merged = load_mergeable(session, merged_id)
        mine, theirs = values_of(survivor), values_of(merged)
        defaults = default_choices(mine, theirs)
        rows = {column.table.name: (_count(session, column, survivor_id),
                                    _count(session, column, merged_id))
                for column in customer_references()
                if RULES.get(column.table.name) in (MOVE, UNION, MARKERS)}
        return MergePlan(survivor_id, merged_id, survivor.version, merged.version,
                         [PlanField(name, mine[name], theirs[name], defaults[name])
                          for name in MERGEABLE], rows)


def merge_customers(actor: Actor, *, survivor_id: int, merged_id: int, survivor_version: int,
                    merged_version: int, keep: Mapping[str, str] | None = None,
                    engine: Engine | None = None) -> Merged:
    """Merge ``merged_id`` into ``survivor_id`` in one transaction, as the page read both
    (their versions); ``keep`` overrides the default choice per field. Audited once as
    ``customer.merge`` on the survivor with both records' full before-state and the rows
    moved per table, and as ``customer.merged`` on the merged record, naming the survivor."""
    require(actor, Capability.EDIT_CUSTOMER)
    _refuse_self(survivor_id, merged_id)
    wanted = _checked_keep(keep or {})
    with write_session(engine) as session:
        lock_customers(session, [survivor_id, merged_id])
        survivor = load_mergeable(session, survivor_id, survivor_version)
        merged = load_mergeable(session, merged_id, merged_version)
        return merge_loaded(session, actor, survivor, merged, wanted, source="form")


def merge_loaded(session: Session, actor: Actor, survivor: Customer, merged: Customer,
                 keep: Mapping[str, str], *, source: str) -> Merged:
    """The merge itself, inside the caller's transaction, of two locked, checked records
    (:func:`merge_customers`, and the bulk merge's pairs)."""
    survivor_id, merged_id = _id(survivor), _id(merged)
    missing = unhandled_tables()
    if missing:
        raise UnhandledTable("No merge rule for " + ", ".join(missing) + " (db.quality.merge).")
    before = {"survivor": _snapshot(survivor), "merged": _snapshot(merged)}
    mine, theirs = values_of(survivor), values_of(merged)
    choices = default_choices(mine, theirs) | dict(keep)
    taken = {name: theirs[name] for name, choice in choices.items()
             if choice == "merged" and theirs[name] != mine[name]}
    now = utcnow()
    with customers_changed(session, [survivor_id, merged_id]):
        merged.merged_into_id = survivor_id  # first: the consent triggers read it
        cleared = {name: [theirs[name], None] for name in UNIQUE
                   if taken.get(name) is not None}
        for name in cleared:
            setattr(merged, name, None)  # the unique value moves to the survivor
        merged.updated_at = now
        session.add(merged)
        session.flush()
        for name, value in taken.items():
            setattr(survivor, name, value)
        survivor.updated_at = now  # a new version: a page holding the old one must reload
        session.add(survivor)
        session.flush()
        moved, dropped = _move_rows(session, survivor_id, merged_id, actor.username, now)
    session.refresh(survivor)
    fields = {name: [mine[name], value] for name, value in taken.items()}
    # Flat keys ("survivor.email", "moved.orders"): the trail stores one level of JSON, and
    # an erasure's redaction replaces each top-level value.
    trail.record(session, actor=actor.username, action="customer.merge", entity="customer",
                 entity_id=survivor_id,
                 changes={"merged_id": merged_id,
                          **{f"{side}.{name}": value for side, values in before.items()
                             for name, value in values.items()},
                          "taken": sorted(taken),
                          **{f"field.{name}": change for name, change in fields.items()},
                          **{f"moved.{name}": count for name, count in moved.items()},
                          **{f"dropped.{name}": count for name, count in dropped.items()}},
                 source=source)
    trail.record(session, actor=actor.username, action="customer.merged", entity="customer",
                 entity_id=merged_id,
                 changes={"merged_into_id": [None, survivor_id], **cleared}, source=source)
    return Merged(survivor_id, merged_id, survivor.version, fields, moved, dropped)


def values_of(customer: Customer) -> dict[str, Any]:
    return {name: getattr(customer, name) for name in MERGEABLE}


def _snapshot(customer: Customer) -> dict[str, Any]:
    """Every stored field of the record, as it is before the merge."""
    return {column.name: getattr(customer, column.name) for column in CUSTOMER.columns}


def _filled(value: object) -> bool:
    return value is not None and str(value).strip() != ""


def _id(customer: Customer) -> int:
    assert customer.id is not None  # read from the database
    return customer.id


def _refuse_self(survivor_id: int, merged_id: int) -> None:
    if survivor_id == merged_id:
        raise MergeRefused(f"Customer {survivor_id} cannot be merged with itself.")


def _checked_keep(keep: Mapping[str, str]) -> dict[str, str]:
    errors = {name: "Not a field a merge chooses." for name in keep if name not in MERGEABLE}
    errors |= {name: 'Choose "survivor" or "merged".' for name, choice in keep.items()
               if name in MERGEABLE and choice not in CHOICES}
    if errors:
        raise InvalidFields(errors)
    return dict(keep)


def refusal(customer: Customer | None, customer_id: int) -> str | None:
    """Why this record cannot take part in a merge (None: it can)."""
    if customer is None:
        return f"There is no customer {customer_id}."
    if customer.erased_at is not None:
        return (f"Customer {customer_id} was erased: nothing personal is left to merge, and "
                "its orders stay under its pseudonym.")
    if customer.merged_into_id is not None:
        return f"Customer {customer_id} was already merged into customer {customer.merged_into_id}."
    if customer.deleted_at is not None:
        return (f"Customer {customer_id} was deleted on {customer.deleted_at:%Y-%m-%d}: "
                "an admin restores it first if it should be merged (a deleted record may "
                "hold data someone meant to be gone).")
    return None


def load_mergeable(session: Session, customer_id: int, version: int | None = None) -> Customer:
    """The record, if it may take part in a merge (:func:`refusal`) and, given ``version``,
    is still at that version (else :class:`MergeConflict`)."""
    customer = session.get(Customer, customer_id, populate_existing=True)
    reason = refusal(customer, customer_id)
    if customer is None:
        raise CustomerNotFound(reason)
    if reason:
        raise MergeRefused(reason)
    if version is not None and customer.version != version:
        changes = _changes_since(session, customer, version)
        for item in (customer, *changes):
            session.expunge(item)  # they travel with the exception, past the rollback
        raise MergeConflict(customer, changes)
    return customer


def _changes_since(session: Session, customer: Customer, version: int) -> list[AuditEvent]:
    """The newest events about this customer, one per version step since ``version``."""
    steps = max(1, min(10, customer.version - version))
    return list(session.execute(
        select(AuditEvent).where(col(AuditEvent.entity) == "customer",
                                 col(AuditEvent.entity_id) == str(customer.id),
                                 col(AuditEvent.action).like("customer.%"))
        .order_by(col(AuditEvent.id).desc()).limit(steps)).scalars())


def _fields_of(event: AuditEvent) -> list[str]:
    """The customer fields an event changed (an update's ``{"field": [old, new]}``)."""
    try:
        changes = json.loads(event.changes or "{}")
    except ValueError:
        return []
    if event.action == "customer.merge":
        return sorted(name.removeprefix("field.") for name in changes
                      if name.startswith("field."))
    return sorted(name for name in changes if name in CUSTOMER.columns)


def _count(session: Session, column: Column[Any], customer_id: int) -> int:
    return int(session.execute(
        select(func.count()).select_from(column.table).where(column == customer_id)).scalar_one())


def _move_rows(session: Session, survivor_id: int, merged_id: int, actor: str,
               now: Any) -> tuple[dict[str, int], dict[str, int]]:
    """Re-point every row of the merged record to the survivor, table by table."""
    moved: dict[str, int] = {}
    dropped: dict[str, int] = {}
    for column in customer_references():
        table = column.table
        assert isinstance(table, Table)
        rule = RULES[table.name]
        if rule in (DERIVED, HISTORY):
            continue
        if rule == RESOLVED:
            if answered := _changed(session, delete(table).where(column == merged_id)):
                dropped[table.name] = dropped.get(table.name, 0) + answered
            continue
        if rule == UNION:
            dropped[table.name] = _drop_held(session, table, column, survivor_id, merged_id)
        if rule == MARKERS:
            dropped[table.name] = _close_held_markers(session, table, survivor_id, merged_id,
                                                      actor, now)
        moved[table.name] = _changed(session, update(table).where(column == merged_id)
                                     .values({column.name: survivor_id}))
    return moved, dropped


def _drop_held(session: Session, table: Table, column: Column[Any], survivor_id: int,
               merged_id: int) -> int:
    """Delete the merged record's rows the survivor holds too (same other key columns)."""
    held = table.alias("held")
    others = [key for key in table.primary_key.columns if key.name != column.name]
    twin = select(held.c[column.name]).where(
        held.c[column.name] == survivor_id,
        *(held.c[key.name] == key for key in others)).exists()
    return _changed(session, delete(table).where(column == merged_id, twin))


def _close_held_markers(session: Session, table: Table, survivor_id: int, merged_id: int,
                        actor: str, now: Any) -> int:
    """Close the merged record's open markers of a kind the survivor holds open too."""
    held = table.alias("held")
    twin = select(held.c.id).where(held.c.customer_id == survivor_id,
                                   held.c.kind == table.c.kind,
                                   held.c.cleared_at.is_(None)).exists()
    reason = f"Merged into customer {survivor_id}, which holds this marker too."
    return _changed(session, update(table).where(
        table.c.customer_id == merged_id, table.c.cleared_at.is_(None), twin)
        .values(cleared_at=now, cleared_by=actor[:50], clear_reason=reason))


def _changed(session: Session, statement: Update | Delete) -> int:
    """Run an UPDATE or DELETE; how many rows it changed."""
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
