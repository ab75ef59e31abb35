"""Bulk merge: pairs that share a record become one group with one survivor (most orders,
then the oldest), each merge its own transaction, and what cannot be merged is skipped with
the reason; the preview plans the same and writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from db.core.access import PermissionDenied
from db.customers.service import CustomerMerged, get_customer, update_customer
from db.derived import kpi_tables, search_index, summary
from db.models import AuditEvent
from db.privacy.erasure import erase_customer
from db.quality.bulk import merge_pairs, preview_pairs
from tests import factories
from tests.factories import ADMIN, MANAGER


def _stale(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {"summary": summary.differences(connection),
                "search": search_index.differences(connection),
                **kpi_tables.differences(connection)}


def _events(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


def _survivor_of(engine: Engine, customer_id: int) -> int:
    with pytest.raises(CustomerMerged) as merged:
        get_customer(ADMIN, customer_id, engine=engine)
    return merged.value.survivor_id


def test_a_chain_of_pairs_resolves_to_the_record_with_most_orders(engine: Engine) -> None:
    a = factories.customer(engine, "Ann", "Lee", email="ann@example.com").id
    b = factories.customer(engine, "Ann", "Lee", phone="+4930111111").id
    c = factories.customer(engine, "Ann", "Lee", city="Berlin").id
    assert a is not None and b is not None and c is not None
    factories.order(engine, c, "20.00")
    factories.order(engine, c, "30.00")
    factories.order(engine, a, "5.00")
    written = _events(engine)
    plan = preview_pairs(ADMIN, [(a, b), (b, c)], engine=engine)
    assert _events(engine) == written  # the preview writes nothing
    assert [(m.survivor_id, m.merged_id, m.survivor_orders, m.merged_orders)
            for m in plan.merges] == [(c, a, 2, 1), (c, b, 2, 0)]
    # The second merge's preview knows the first filled nothing it would fill again.
    assert plan.merges[0].fields == {"email": [None, "ann@example.com"]}
    assert plan.merges[1].fields == {"phone": [None, "+4930111111"]}
    done = merge_pairs(ADMIN, [(a, b), (b, c)], versions=plan.versions, engine=engine)
    assert [(m.survivor_id, m.merged_id) for m in done.merged] == [(c, a), (c, b)]
    assert done.skipped == []
    assert _survivor_of(engine, a) == _survivor_of(engine, b) == c
    survivor = get_customer(ADMIN, c, engine=engine)
    assert (survivor.email, survivor.phone, survivor.city) == (
        "ann@example.com", "+4930111111", "Berlin")
    assert not any(_stale(engine).values()), _stale(engine)


def test_with_equal_orders_the_older_record_survives(engine: Engine) -> None:
    old = factories.customer(engine, "Bob", "Ray").id
    new = factories.customer(engine, "Bob", "Ray").id
    assert old is not None and new is not None
    done = merge_pairs(ADMIN, [(new, old)], engine=engine)
    assert [(m.survivor_id, m.merged_id) for m in done.merged] == [(old, new)]


def test_pairs_that_cannot_be_merged_are_skipped_with_the_reason(engine: Engine) -> None:
    ids = [factories.customer(engine, "Cy", "Doe", email=f"c{n}@example.com").id
           for n in range(7)]
    assert all(ids)
    a, b, c, d, e, f, g = (customer_id or 0 for customer_id in ids)
    erase_customer(ADMIN, c, confirmation=str(c), engine=engine)
    merge_pairs(ADMIN, [(d, e)], engine=engine)  # e is merged into d already
    plan = preview_pairs(ADMIN, [(a, b), (a, c), (f, f), (e, a), (f, g)], engine=engine)
    assert [(s.survivor_id, s.merged_id) for s in plan.skipped] == [(a, c), (f, f), (e, a)]
    assert "was erased" in plan.skipped[0].reason
    assert plan.skipped[1].reason == "the same record twice"
    assert f"already merged into customer {d}" in plan.skipped[2].reason
    # Changed after the preview: that merge is skipped, naming who changed what.
    update_customer(MANAGER, g, plan.versions[g], {"city": "Bonn"}, engine=engine)
    done = merge_pairs(ADMIN, [(a, b), (a, c), (f, f), (e, a), (f, g)],
                       versions=plan.versions, engine=engine)
    assert [(m.survivor_id, m.merged_id) for m in done.merged] == [(a, b)]
    assert done.skipped[-1].merged_id in {f, g}
    assert f"morgan changed customer {g} (city)" in done.skipped[-1].reason
    assert get_customer(ADMIN, g, engine=engine).merged_into_id is None


def test_bulk_merge_is_for_admins(engine: Engine) -> None:
    with pytest.raises(PermissionDenied):
        preview_pairs(MANAGER, [(1, 2)], engine=engine)
    with pytest.raises(PermissionDenied):
        merge_pairs(MANAGER, [(1, 2)], engine=engine)
