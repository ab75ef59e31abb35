"""Merging two records of one person: every row that references the merged record moves
(the tables found from the metadata), consent history follows within its append-only rule,
the derived tables equal a rebuild, one audit event keeps both before-states, and the
refusals say why."""

from __future__ import annotations

import importlib
import json
import pkgutil
import threading
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Column, Engine, ForeignKey, Integer, Table, func, select, text, update
from sqlalchemy.exc import DatabaseError
from sqlmodel import SQLModel

import db
from db.core.access import PermissionDenied
from db.core.fields import InvalidFields
from db.core.sql import table_of
from db.core.types import utcnow
from db.customers import profile, restriction
from db.customers.overview import database_overview
from db.customers.service import (
    CustomerMerged,
    CustomerNotFound,
    get_customer,
    soft_delete_customer,
    update_customer,
)
from db.derived import kpi_tables, search_index, summary
from db.derived.models import CustomerSummary
from db.models import AuditEvent, ConsentEvent, Customer
from db.privacy.erasure import erase_customer
from db.privacy.retention import past_retention
from db.quality.merge import (
    MergeConflict,
    MergeRefused,
    UnhandledTable,
    customer_references,
    merge_customers,
    merge_plan,
    unhandled_tables,
)
from db.search.ranking import search_customers
from db.segments.definition import Condition, Group
from db.segments.service import save_segment
from tests import factories
from tests.factories import ADMIN, MANAGER, MARKETING


def _all_models() -> None:
    """Import every module under db/, so a table declared anywhere is in the metadata."""
    for module in pkgutil.walk_packages(db.__path__, "db."):
        if ".migrations" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)


def _stale(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {"summary": summary.differences(connection),
                "search": search_index.differences(connection),
                **kpi_tables.differences(connection)}


def _merge(engine: Engine, survivor: int, merged: int, **keep: str) -> Any:
    with engine.connect() as connection:
        versions = dict(connection.execute(select(Customer.id, Customer.version).where(
            Customer.id.in_([survivor, merged]))).all())
    return merge_customers(MANAGER, survivor_id=survivor, merged_id=merged,
                           survivor_version=versions[survivor], merged_version=versions[merged],
                           keep=keep or None, engine=engine)


def _rows_of(engine: Engine, customer_id: int) -> dict[str, int]:
    with engine.connect() as connection:
        return {column.table.name: connection.execute(
                    select(func.count()).select_from(column.table)
                    .where(column == customer_id)).scalar_one()
                for column in customer_references() if column.table.name != "customer_summary"}


def _totals(engine: Engine) -> tuple[int, ...]:
    with engine.connect() as connection:
        return tuple(connection.execute(text(
            "SELECT (SELECT SUM(revenue_cents) FROM daily_sales), "
            "(SELECT SUM(orders) FROM daily_sales), "
            "(SELECT SUM(interactions) FROM daily_interactions), "
            "(SELECT SUM(spend_cents) FROM customer_summary)")).one())


def _filled_pair(engine: Engine) -> tuple[int, int]:
    """Two records of one person, each with rows in every table that references customers."""
    ann = factories.customer(engine, "Ann", "Lee", email=None, phone="+4930111111",
                             city="Berlin", gender="female")
    dup = factories.customer(engine, "Ann", "Lee", email="ann@example.com",
                             street="Hauptstr. 1", postcode="80331", city="München",
                             occupation="Nurse", gender="female")
    assert ann.id is not None and dup.id is not None
    week_ago = utcnow() - timedelta(days=7)
    for customer_id, amount in ((ann.id, "40.00"), (dup.id, "25.50"), (dup.id, "-5.50")):
        factories.order(engine, customer_id, amount, ordered_at=week_ago)
        factories.contact(engine, customer_id, f"About {amount}", at=week_ago)
        factories.feedback(engine, customer_id, 9)
    factories.card(engine, ann.id, processor_token="tok_a")
    factories.card(engine, dup.id, processor_token="tok_b")
    profile.set_tags(ADMIN, ann.id, ["vip", "cycling"], engine=engine)
    profile.set_tags(ADMIN, dup.id, ["vip", "running"], engine=engine)
    female = Group(children=[Condition(field="gender", op="eq", value="female")])
    save_segment(ADMIN, name="Women", description=None, kind="static", definition=female,
                 engine=engine)
    restriction.set_marker(ADMIN, ann.id, "do_not_contact", "Asked by phone", engine=engine)
    restriction.set_marker(ADMIN, dup.id, "do_not_contact", "Asked by mail", engine=engine)
    restriction.set_marker(ADMIN, dup.id, "restricted", "Disputes data", engine=engine)
    for customer_id, granted in ((ann.id, False), (dup.id, True)):  # the duplicate's is newer
        profile.record_consent(ADMIN, customer_id, purpose="email_marketing", granted=granted,
                               source="web", notice_version="v1", engine=engine)
    return ann.id, dup.id


def test_every_table_that_references_customers_has_a_merge_rule() -> None:
    _all_models()
    assert {column.table.name for column in customer_references()} >= {
        "orders", "interaction", "feedback", "consent_event", "customer_tag", "payment_method",
        "customer_restriction", "segment_member", "customer_summary"}
    assert unhandled_tables() == []


def test_a_table_added_later_is_refused_until_it_has_a_rule(engine: Engine) -> None:
    ann, dup = (factories.customer(engine, "Ann", "Lee").id,
                factories.customer(engine, "Ann", "Lee").id)
    assert ann is not None and dup is not None
    later = Table("loyalty_card", SQLModel.metadata, Column("id", Integer, primary_key=True),
                  Column("customer_id", Integer, ForeignKey("customer.id")))
    try:
        assert unhandled_tables() == ["loyalty_card"]
        with pytest.raises(UnhandledTable, match="loyalty_card"):
            _merge(engine, ann, dup)
    finally:
        SQLModel.metadata.remove(later)
    assert get_customer(MANAGER, dup, engine=engine).merged_into_id is None  # nothing written


def test_merge_moves_every_row_and_keeps_the_figures(engine: Engine) -> None:
    _all_models()
    ann, dup = _filled_pair(engine)
    before = _totals(engine)
    held = {name: _rows_of(engine, ann)[name] + count
            for name, count in _rows_of(engine, dup).items()}
    done = _merge(engine, ann, dup)
    after = _rows_of(engine, ann)
    assert _rows_of(engine, dup) == dict.fromkeys(after, 0)
    # Tags and static-segment places are a union: "vip" and the segment place once each;
    # both bought books, which the survivor's newest order per category holds once; the
    # merged record's name words leave the lookup with it ("ann", "lee": the survivor's own).
    assert after == held | {"customer_tag": 3, "segment_member": 1, "customer": 1,
                            "category_buyers": 1, "customer_name_word": 2}
    assert done.dropped == {"customer_tag": 1, "segment_member": 1, "customer_restriction": 1}
    assert done.moved["orders"] == 2 and done.moved["consent_event"] == 1
    assert sorted(profile.tags(MANAGER, ann, engine=engine)) == ["cycling", "running", "vip"]
    # Both "do not contact" markers were open: the duplicate's was closed, then moved.
    markers = restriction.history(ADMIN, ann, engine=engine)
    assert len([m for m in markers if m.cleared_at is None]) == 2  # do_not_contact, restricted
    assert not any(_stale(engine).values()), _stale(engine)
    assert _totals(engine) == before  # revenue, orders, contacts, spend: the same money
    with engine.connect() as connection:
        row = connection.execute(select(CustomerSummary).where(
            CustomerSummary.customer_id == ann)).one()
        assert (row.order_count, row.spend_cents) == (3, 6000)
        # The newest consent across both histories is the duplicate's grant.
        assert row.consent_email_marketing is True and row.do_not_contact and row.restricted
        assert connection.execute(select(CustomerSummary.live).where(
            CustomerSummary.customer_id == dup)).scalar_one() is False


def test_default_choices_fill_empty_fields_and_take_the_address_as_a_unit(
        engine: Engine) -> None:
    _all_models()
    ann, dup = _filled_pair(engine)
    plan = merge_plan(MANAGER, ann, dup, engine=engine)
    chosen = {field.name: field.default for field in plan.fields}
    # Ann has a city, so her (partial) address stays; her empty e-mail is filled.
    assert chosen["city"] == chosen["street"] == chosen["postcode"] == "survivor"
    assert chosen["email"] == chosen["occupation"] == "merged"
    assert chosen["phone"] == chosen["first_name"] == "survivor"
    assert plan.rows["orders"] == (1, 2)
    done = _merge(engine, ann, dup, first_name="merged")
    survivor = get_customer(MANAGER, ann, engine=engine)
    assert (survivor.email, survivor.occupation, survivor.city, survivor.street) == (
        "ann@example.com", "Nurse", "Berlin", None)
    assert done.fields == {"email": [None, "ann@example.com"], "occupation": [None, "Nurse"]}


def test_the_merged_email_moves_to_the_survivor_and_an_explicit_choice_wins(
        engine: Engine) -> None:
    ann = factories.customer(engine, "Ann", "Lee", email="ann@old.example").id
    dup = factories.customer(engine, "Ann", "Lee", email="ann@new.example", city="Bonn").id
    assert ann is not None and dup is not None
    _merge(engine, ann, dup, email="merged")
    assert get_customer(ADMIN, ann, engine=engine).email == "ann@new.example"
    with engine.connect() as connection:
        merged = connection.execute(select(Customer.email, Customer.city, Customer.merged_into_id)
                                    .where(Customer.id == dup)).one()
    assert tuple(merged) == (None, "Bonn", ann)  # cleared for the unique constraint only


def test_one_audit_event_holds_both_records_before_the_merge(engine: Engine) -> None:
    _all_models()
    ann, dup = _filled_pair(engine)
    _merge(engine, ann, dup)
    with engine.connect() as connection:
        events = connection.execute(select(AuditEvent.entity_id, AuditEvent.action,
                                           AuditEvent.changes)
                                    .where(AuditEvent.action.like("customer.merge%"))).all()
    assert [(entity, action) for entity, action, _ in events] == [
        (str(ann), "customer.merge"), (str(dup), "customer.merged")]
    changes = json.loads(events[0].changes)
    columns = {column.name for column in table_of(Customer).columns}
    for side in ("survivor", "merged"):
        assert {name.split(".")[1] for name in changes if name.startswith(side + ".")} == columns
    assert changes["merged.email"] == "ann@example.com"
    assert changes["survivor.phone"] == "+4930111111"
    assert changes["field.email"] == [None, "ann@example.com"]
    assert changes["moved.orders"] == 2 and changes["merged_id"] == dup
    assert json.loads(events[1].changes)["merged_into_id"] == [None, ann]


def test_the_merged_record_is_not_live_and_its_link_names_the_survivor(engine: Engine) -> None:
    ann = factories.customer(engine, "Ann", "Quistorp").id
    dup = factories.customer(engine, "Ann", "Quistorp").id
    assert ann is not None and dup is not None
    assert database_overview(ADMIN, engine=engine).customers == 2
    _merge(engine, ann, dup)
    with pytest.raises(CustomerMerged, match=f"merged into customer {ann}") as merged:
        get_customer(MARKETING, dup, engine=engine)
    assert isinstance(merged.value, CustomerNotFound) and merged.value.survivor_id == ann
    assert [hit.customer.id for hit in search_customers(
        MANAGER, "Quistorp", engine=engine).hits] == [ann]
    assert database_overview(ADMIN, engine=engine).customers == 1
    with pytest.raises(CustomerNotFound):  # an edit of the merged record is refused
        update_customer(MANAGER, dup, 2, {"city": "Bonn"}, engine=engine)


def test_a_chain_of_merges_keeps_every_pointer_one_hop(engine: Engine) -> None:
    a, b, c = (factories.customer(engine, "Ann", "Lee").id for _ in range(3))
    assert a is not None and b is not None and c is not None
    factories.order(engine, a, "10.00")
    _merge(engine, b, a)
    _merge(engine, c, b)
    with pytest.raises(CustomerMerged) as merged:
        get_customer(MANAGER, a, engine=engine)
    assert merged.value.survivor_id == c
    assert len(profile.orders(MANAGER, c, engine=engine)) == 1
    assert not any(_stale(engine).values())


def test_consent_history_moves_but_stays_append_only(engine: Engine) -> None:
    ann = factories.customer(engine, "Ann", "Lee").id
    dup = factories.customer(engine, "Ann", "Lee").id
    other = factories.customer(engine, "Bob", "Ray").id
    assert ann is not None and dup is not None and other is not None
    event = profile.record_consent(ADMIN, dup, purpose="sms", granted=True, source="phone",
                                   notice_version="v2", engine=engine)
    # Before a merge, no re-pointing is allowed.
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
        connection.execute(update(ConsentEvent).where(ConsentEvent.id == event.id)
                           .values(customer_id=ann))
    _merge(engine, ann, dup)
    with engine.connect() as connection:
        moved = connection.execute(select(ConsentEvent).where(ConsentEvent.id == event.id)).one()
    assert (moved.customer_id, moved.purpose, moved.granted, moved.source, moved.at) == (
        ann, "sms", True, "phone", event.at)
    # Still refused: any other change, and a move anywhere but to a survivor.
    for values in ({"granted": False}, {"customer_id": other}, {"customer_id": dup}):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
            connection.execute(update(ConsentEvent).where(ConsentEvent.id == event.id)
                               .values(**values))
    assert profile.current_consent(
        profile.consent_history(MANAGER, ann, engine=engine))["sms"] is not None


def test_refusals_say_why_and_write_nothing(engine: Engine) -> None:
    ann, dup, gone, erased, other = (
        factories.customer(engine, "Ann", "Lee", email=f"a{n}@example.com").id for n in range(5))
    assert ann and dup and gone and erased and other
    with pytest.raises(MergeRefused, match="cannot be merged with itself"):
        _merge(engine, ann, ann)
    soft_delete_customer(ADMIN, gone, engine=engine)
    with pytest.raises(MergeRefused, match=f"Customer {gone} was deleted on .*restores it"):
        _merge(engine, ann, gone)
    erase_customer(ADMIN, erased, confirmation=str(erased), engine=engine)
    with pytest.raises(MergeRefused, match=f"Customer {erased} was erased"):
        _merge(engine, erased, ann)
    _merge(engine, ann, other)
    with pytest.raises(MergeRefused, match=f"already merged into customer {ann}"):
        _merge(engine, dup, other)
    with pytest.raises(CustomerNotFound, match="no customer 999"):
        merge_plan(MANAGER, ann, 999, engine=engine)
    with pytest.raises(PermissionDenied):
        merge_plan(MARKETING, ann, dup, engine=engine)
    with pytest.raises(InvalidFields) as invalid:
        _merge(engine, ann, dup, email="both", version="merged")
    assert set(invalid.value.errors) == {"email", "version"}
    assert get_customer(ADMIN, dup, engine=engine).merged_into_id is None


def test_a_record_changed_since_the_page_read_it_is_not_merged(engine: Engine) -> None:
    ann = factories.customer(engine, "Ann", "Lee").id
    dup = factories.customer(engine, "Ann", "Lee").id
    assert ann is not None and dup is not None
    plan = merge_plan(MANAGER, ann, dup, engine=engine)
    update_customer(MANAGER, dup, plan.merged_version, {"city": "Bonn"}, engine=engine)
    with pytest.raises(MergeConflict, match=f"morgan changed customer {dup} \\(city\\)"):
        merge_customers(ADMIN, survivor_id=ann, merged_id=dup,
                        survivor_version=plan.survivor_version,
                        merged_version=plan.merged_version, engine=engine)
    assert get_customer(ADMIN, dup, engine=engine).merged_into_id is None


def _merge_at_once(engine: Engine, start: threading.Barrier, outcomes: list[str],
                   survivor: int, merged: int, versions: tuple[int, int]) -> None:
    start.wait()
    try:
        merge_customers(MANAGER, survivor_id=survivor, merged_id=merged,
                        survivor_version=versions[0], merged_version=versions[1], engine=engine)
        outcomes.append("merged")
    except (MergeRefused, MergeConflict) as error:
        outcomes.append(type(error).__name__)
    except Exception as error:  # a deadlock or lock failure would land here
        outcomes.append(repr(error))


def test_two_merges_of_one_pair_at_once_queue_instead_of_deadlocking(engine: Engine) -> None:
    """Each side locks both rows in id order, so the reversed pair waits, then is refused."""
    for _ in range(3):
        a = factories.customer(engine, "Ann", "Lee").id
        b = factories.customer(engine, "Ann", "Lee").id
        assert a is not None and b is not None
        plan = merge_plan(MANAGER, a, b, engine=engine)
        start = threading.Barrier(2)
        outcomes: list[str] = []
        sides = [threading.Thread(target=_merge_at_once, args=(
                     engine, start, outcomes, a, b, (plan.survivor_version, plan.merged_version))),
                 threading.Thread(target=_merge_at_once, args=(
                     engine, start, outcomes, b, a, (plan.merged_version, plan.survivor_version)))]
        for side in sides:
            side.start()
        for side in sides:
            side.join(timeout=60)
        assert sorted(outcomes)[0] in {"MergeConflict", "MergeRefused"}, outcomes
        assert sorted(outcomes)[1] == "merged", outcomes


def test_erasing_the_survivor_erases_the_records_merged_into_it(engine: Engine) -> None:
    ann = factories.customer(engine, "Ann", "Lee", email="ann@example.com").id
    dup = factories.customer(engine, "Annie", "Leigh", email="annie@old.example",
                             phone="+4930222222").id
    assert ann is not None and dup is not None
    _merge(engine, ann, dup)
    # The merged record follows its survivor: not listed past retention on its own.
    report = past_retention(ADMIN, years=1, today=date(2100, 1, 1), engine=engine)
    assert [row.id for row in report.customers] == [ann]
    erase_customer(ADMIN, ann, confirmation=str(ann), engine=engine)
    with engine.connect() as connection:
        shell = connection.execute(select(Customer).where(Customer.id == dup)).one()
        trail = " ".join(connection.execute(select(AuditEvent.changes)).scalars())
    assert shell.erased_at is not None and shell.merged_into_id == ann
    assert (shell.first_name, shell.email, shell.phone) == ("Erased", None, None)
    for value in ("Annie", "annie@old.example", "+4930222222", "ann@example.com"):
        assert value not in trail
