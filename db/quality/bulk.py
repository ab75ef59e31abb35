"""Merging many duplicate pairs at once (admins), after a preview of what would happen.

Pairs that share a record form one group (A~B and B~C: A, B and C are one person) with one
survivor: the record with the most orders, then the older one (``created_at``, then the
lower id). Every other record of the group is merged into it with the default field choices
of :mod:`db.quality.merge`, each in its own transaction, so one refusal costs one merge.

A pair with a record that cannot be merged (erased, soft-deleted, already merged, gone) is
skipped with the reason, as is a merge whose records changed since the preview when the
caller passes the preview's ``versions``. :func:`preview_pairs` plans the same groups and
writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from db.core.access import Actor, Capability, require
from db.core.engine import read_session, write_session
from db.core.sql import table_of
from db.customers.service import CustomerNotFound
from db.models import Customer, Order, lock_customers
from db.quality.merge import (
    MERGEABLE,
    MergeConflict,
    Merged,
    MergeRefused,
    default_choices,
    load_mergeable,
    merge_loaded,
    refusal,
    values_of,
)

ORDERS = table_of(Order)


@dataclass(frozen=True)
class Skipped:
    """A pair (or one merge of a group) left alone, and why."""

    survivor_id: int
    merged_id: int
    reason: str


@dataclass(frozen=True)
class PlannedMerge:
    """One merge of a group: who survives, what each has, what the survivor's fields become."""

    survivor_id: int
    merged_id: int
    survivor_name: str
    merged_name: str
    survivor_orders: int
    merged_orders: int
    fields: dict[str, list[Any]]  # the survivor's fields the default choices fill: [old, new]


@dataclass
class BulkPlan:
    """What :func:`merge_pairs` would do now; pass ``versions`` to it to merge only records
    unchanged since."""

    merges: list[PlannedMerge] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    versions: dict[int, int] = field(default_factory=dict)


@dataclass
class BulkMerge:
    """What :func:`merge_pairs` did."""

    merged: list[Merged] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def preview_pairs(actor: Actor, pairs: Sequence[tuple[int, int]], *,
                  engine: Engine | None = None) -> BulkPlan:
    """The merges :func:`merge_pairs` would make of ``pairs``, and the pairs it would skip."""
    require(actor, Capability.ADMINISTER)
    with read_session(engine) as session:
        return _plan(session, pairs)


def merge_pairs(actor: Actor, pairs: Sequence[tuple[int, int]], *,
                versions: Mapping[int, int] | None = None,
                engine: Engine | None = None) -> BulkMerge:
    """Merge each group of ``pairs`` into its survivor, one transaction per merge; with
    ``versions`` (a preview's), a record changed since is skipped with who changed what."""
    require(actor, Capability.ADMINISTER)
    with read_session(engine) as session:
        plan = _plan(session, pairs)
    result = BulkMerge(skipped=list(plan.skipped))
    expected = {**plan.versions, **(versions or {})}
    for planned in plan.merges:
        survivor_id, merged_id = planned.survivor_id, planned.merged_id
        try:
            with write_session(engine) as session:
                lock_customers(session, [survivor_id, merged_id])
                survivor = load_mergeable(session, survivor_id, expected[survivor_id])
                merged = load_mergeable(session, merged_id, expected[merged_id])
                done = merge_loaded(session, actor, survivor, merged, {}, source="form")
        except (MergeRefused, MergeConflict, CustomerNotFound) as error:
            result.skipped.append(Skipped(survivor_id, merged_id, str(error)))
            continue
        expected[survivor_id] = done.survivor_version  # its next merge starts from here
        result.merged.append(done)
    return result


def _plan(session: Session, pairs: Sequence[tuple[int, int]]) -> BulkPlan:
    plan = BulkPlan()
    ids = sorted({customer_id for pair in pairs for customer_id in pair})
    customers = {customer.id: customer for customer in session.execute(
        select(Customer).where(col(Customer.id).in_(ids))).scalars()}
    orders = dict(session.execute(
        select(ORDERS.c.customer_id, func.count()).where(ORDERS.c.customer_id.in_(ids))
        .group_by(ORDERS.c.customer_id)).all())
    plan.versions = {customer_id: customer.version for customer_id, customer in customers.items()
                     if customer_id is not None}
    parent: dict[int, int] = {}

    def root(customer_id: int) -> int:
        while parent.setdefault(customer_id, customer_id) != customer_id:
            customer_id = parent[customer_id]
        return customer_id

    for first, second in pairs:
        reason = "the same record twice" if first == second else next(
            (why for customer_id in (first, second)
             if (why := refusal(customers.get(customer_id), customer_id))), None)
        if reason:
            plan.skipped.append(Skipped(first, second, reason))
            continue
        parent[root(first)] = root(second)
    groups: dict[int, list[Customer]] = {}
    for customer_id in sorted(parent):
        groups.setdefault(root(customer_id), []).append(customers[customer_id])
    for members in groups.values():
        survivor, *others = sorted(members, key=lambda c: (
            -orders.get(c.id, 0), c.created_at, c.id))
        values = values_of(survivor)
        for other in others:
            theirs = values_of(other)
            taken = {name: [values[name], theirs[name]]
                     for name, choice in default_choices(values, theirs).items()
                     if choice == "merged" and theirs[name] != values[name]}
            values |= {name: new for name, (_, new) in taken.items()}
            plan.merges.append(PlannedMerge(
                _id(survivor), _id(other), _name(survivor), _name(other),
                orders.get(survivor.id, 0), orders.get(other.id, 0),
                {name: taken[name] for name in MERGEABLE if name in taken}))
    return plan


def _id(customer: Customer) -> int:
    assert customer.id is not None
    return customer.id


def _name(customer: Customer) -> str:
    return f"{customer.first_name} {customer.last_name}"
