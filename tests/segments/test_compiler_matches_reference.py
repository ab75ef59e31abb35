"""The SQL compiler returns exactly the reference evaluator's members, on every engine."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select, text
from sqlmodel import SQLModel

from db.derived import ranks, summary
from db.models import (
    ConsentEvent,
    Customer,
    CustomerTag,
    Feedback,
    Interaction,
    Order,
    Tag,
)
from db.segments.compiler import SegmentCycle, members
from db.segments.definition import Condition, Group, InvalidDefinition, condition_problem
from tests.segments.reference import Reference, load
from tests.segments.strategies import Dataset, beside_a_country, datasets, definitions

SAVED_IDS = (101, 102)
_DATA_TABLES = [Customer, Tag, CustomerTag, Order, Interaction, Feedback, ConsentEvent]


def _stamp(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _store(engine: Engine, data: Dataset) -> None:
    """Replace the database's customers with ``data`` and rebuild the summary and ranks."""
    with engine.begin() as connection:
        # consent_event is append-only (migration 0006): empty it as the suite's cleanup
        # empties audit_event, past the triggers, in a transaction of its own.
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for trigger in ("consent_event_no_update", "consent_event_no_delete"):
                connection.execute(text("DROP TRIGGER IF EXISTS " + trigger))
        connection.execute(delete(ConsentEvent))
    with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            if table.name in {model.__tablename__ for model in _DATA_TABLES} | {
                    "customer_summary", "order_ranks", "contact_ranks", "category_buyers"}:
                connection.execute(delete(table))
        tables = {model: model.__table__ for model in _DATA_TABLES}
        if data.customers:
            rows = [dict(row, updated_at=row["created_at"], version=1, erased_at=None)
                    for row in data.customers]
            connection.execute(tables[Customer].insert(), rows)
        names = sorted({name for _, name in data.tags})
        if names:
            connection.execute(tables[Tag].insert(),
                               [{"id": i + 1, "name": n} for i, n in enumerate(names)])
            connection.execute(tables[CustomerTag].insert(), [
                {"customer_id": c, "tag_id": names.index(n) + 1} for c, n in data.tags])
        for model, rows, extra in (
                (Order, data.orders, {"currency": "EUR", "product": "p", "quantity": 1}),
                (Interaction, data.interactions, {"direction": "inbound", "subject": "s"}),
                (Feedback, data.feedback, {}),
                (ConsentEvent, data.consent, {"source": "test", "notice_version": "v1"})):
            if rows:
                connection.execute(tables[model].insert(), [row | extra for row in rows])
        summary.rebuild(connection)
        ranks.rebuild(connection)


def _saved(data: Dataset) -> dict[int, Group | set[int]]:
    """Two saved segments to refer to: a dynamic one and a static snapshot."""
    dynamic = Group(match="any", children=[
        Condition(field="order_count", op="ge", value=2),
        Condition(field="city", op="contains", value="ber")])
    static = {row["id"] for row in data.customers if row["id"] % 2 == 0}
    return {SAVED_IDS[0]: dynamic, SAVED_IDS[1]: static}


def _resolver(saved: dict[int, Group | set[int]]):
    def resolve(segment_id: int):
        target = saved.get(segment_id)
        if isinstance(target, set):
            return select(Customer.id).where(Customer.id.in_(sorted(target)))
        return target
    return resolve


@settings(max_examples=70, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=datasets(), trees=st.lists(definitions(SAVED_IDS), min_size=1, max_size=5))
def test_compiler_matches_the_reference(engine: Engine, data: Dataset,
                                        trees: list[Group]) -> None:
    _store(engine, data)
    saved = _saved(data)
    reference = Reference(load(engine), data.as_of, saved)
    with engine.connect() as connection:
        for tree in trees:
            query = members(tree, as_of=data.as_of, resolve=_resolver(saved))
            got = set(connection.execute(query).scalars())
            assert got == reference.members(tree), tree.model_dump_json()


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=datasets(), trees=st.lists(beside_a_country(SAVED_IDS), min_size=1, max_size=4))
def test_buyers_read_by_country_match_the_reference(engine: Engine, data: Dataset,
                                                    trees: list[Group]) -> None:
    """A category bought in a short window beside "country is …": read by country under
    "all of", over every country under "any of", at any depth, negated or not."""
    _store(engine, data)
    saved = _saved(data)
    reference = Reference(load(engine), data.as_of, saved)
    with engine.connect() as connection:
        for tree in trees:
            got = set(connection.execute(members(tree, as_of=data.as_of,
                                                 resolve=_resolver(saved))).scalars())
            assert got == reference.members(tree), tree.model_dump_json()


def test_huge_and_empty_values_are_refused_before_the_database(engine: Engine) -> None:
    as_of = datetime(2026, 6, 15, tzinfo=UTC)
    for condition in (Condition(field="age", op="ge", value=10**30),
                      Condition(field="total_spend", op="gt", value="1e400"),
                      Condition(field="total_spend", op="gt", value="0.001"),
                      Condition(field="order_count", op="between", value=[5, 2]),
                      Condition(field="city", op="in", value=[]),
                      Condition(field="created", op="in_last_days", value=-3),
                      Condition(field="tags", op="has_any", value=["\x00"])):
        with pytest.raises(InvalidDefinition):
            members(Group(children=[condition]), as_of=as_of, resolve=lambda _: None)


def test_each_problem_is_named_in_words() -> None:
    """What the builder shows beside a condition: a missing number is asked for, not
    called a wrong one."""
    def problem(**fields: object) -> str | None:
        return condition_problem(Condition(**fields))

    assert problem(field="order_count", op="eq", value=None) == "Give a number."
    assert problem(field="order_count", op="eq", value="x") == (
        "Number of orders must be a whole number.")
    assert problem(field="order_count", op="between", value=[5, 2]) == (
        "The lowest value is above the highest.")
    assert problem(field="total_spend", op="gt", value=None) == "Give an amount like 49.90."
    assert problem(field="order_count", op="eq", value=3) is None


def test_a_segment_that_includes_itself_is_refused() -> None:
    own = Group(children=[Condition(field="segment", op="in_segment", value=7)])
    other = Group(children=[Condition(field="segment", op="not_in_segment", value=7)])
    definitions_by_id = {7: Group(children=[Condition(field="segment", op="in_segment",
                                                      value=8)]), 8: other}
    with pytest.raises(SegmentCycle):
        members(own, as_of=datetime(2026, 1, 1, tzinfo=UTC),
                resolve=definitions_by_id.get, segment_id=8)
