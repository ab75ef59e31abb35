"""Customer services: validation, duplicates, optimistic locking, roles, audit, soft delete
and restore."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from db.audit import recent
from db.core.access import Actor, PermissionDenied
from db.core.types import utcnow
from db.customers import profile
from db.customers.grid import update_many
from db.customers.orders import record_order
from db.customers.service import (
    CustomerDeleted,
    CustomerNotFound,
    DuplicateEmail,
    PossibleDuplicate,
    StaleRecord,
    create_customer,
    deleted_customers,
    editable_fields,
    get_customer,
    restore_customer,
    soft_delete_customer,
    update_customer,
)
from db.customers.tags import TagEdit
from db.customers.twins import AlreadyCreated
from db.customers.validation import InvalidFields
from db.derived import buyer_cells, kpi_tables, search_index, summary
from db.models import AuditEvent, Customer
from db.search.ranking import search_customers
from tests.factories import ADMIN, MANAGER, MARKETING

JOHN = {"first_name": "John", "last_name": "Smith", "email": "John.Smith@Example.com",
        "phone": "020 7946 0958", "country": "gb", "postcode": "SW1A 1AA", "city": "London"}


def _events(engine: Engine, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        return list(session.exec(query))


@pytest.fixture
def john(engine: Engine) -> Customer:
    return create_customer(MANAGER, JOHN, engine=engine)


def test_create_normalises_and_audits(engine: Engine, john: Customer) -> None:
    assert (john.email, john.phone, john.country, john.version) == (
        "john.smith@example.com", "+442079460958", "GB", 1)
    (event,) = _events(engine, "customer.create")
    assert event.entity_id == str(john.id) and event.actor == MANAGER.username
    assert json.loads(event.changes)["email"] == [None, "john.smith@example.com"]


def test_create_requires_names_and_country(engine: Engine) -> None:
    with pytest.raises(InvalidFields) as caught:
        create_customer(MANAGER, {"first_name": "Ann"}, engine=engine)
    assert set(caught.value.errors) == {"last_name", "country"}
    assert _events(engine, "customer.create") == []


def test_same_email_is_refused_with_a_link_to_the_owner(engine: Engine, john: Customer) -> None:
    with pytest.raises(DuplicateEmail) as caught:
        create_customer(MANAGER, {"first_name": "J", "last_name": "S", "country": "GB",
                                  "email": " JOHN.SMITH@example.com"}, engine=engine)
    assert caught.value.existing_id == john.id


@pytest.mark.parametrize("fields", [
    {"first_name": "Johnny", "last_name": "Smithers", "phone": "+44 20 7946 0958"},
    {"first_name": "john", "last_name": "SMITH", "postcode": "SW1A 1AA"},
])
def test_likely_duplicates_ask_for_confirmation(engine: Engine, john: Customer,
                                                fields: dict) -> None:
    fields = {"country": "GB"} | fields
    with pytest.raises(PossibleDuplicate) as caught:
        create_customer(MANAGER, fields, engine=engine)
    assert [c.id for c in caught.value.candidates] == [john.id]
    confirmed = create_customer(MANAGER, fields, confirm=True, engine=engine)
    assert confirmed.id != john.id


def test_update_writes_one_event_with_old_and_new(engine: Engine, john: Customer) -> None:
    saved = update_customer(MANAGER, john.id, 1, {"city": "Leeds", "postcode": "SW1A 1AA"},
                            engine=engine)
    assert (saved.city, saved.version) == ("Leeds", 2)
    (event,) = _events(engine, "customer.update")
    assert json.loads(event.changes) == {"city": ["London", "Leeds"]}


def test_a_save_that_changes_nothing_writes_nothing(engine: Engine, john: Customer) -> None:
    unchanged = {"city": " London ", "email": "JOHN.SMITH@example.com"}
    saved = update_customer(MANAGER, john.id, 1, unchanged, engine=engine)
    assert saved.version == 1
    assert _events(engine, "customer.update") == []


def test_a_stale_save_is_refused_and_says_who_changed_what(engine: Engine,
                                                           john: Customer) -> None:
    update_customer(ADMIN, john.id, 1, {"city": "York"}, engine=engine)
    with pytest.raises(StaleRecord) as caught:
        update_customer(MANAGER, john.id, 1, {"city": "Leeds"}, engine=engine)
    assert f"{ADMIN.username} saved this customer after you opened it" in str(caught.value)
    assert caught.value.current.city == "York"
    assert json.loads(caught.value.changes[0].changes) == {"city": ["London", "York"]}
    assert get_customer(MANAGER, john.id, engine=engine).city == "York"


def test_invalid_edit_saves_nothing(engine: Engine, john: Customer) -> None:
    with pytest.raises(InvalidFields) as caught:
        update_customer(MANAGER, john.id, 1, {"city": "Leeds", "email": "broken"},
                        engine=engine)
    assert set(caught.value.errors) == {"email"}
    assert get_customer(MANAGER, john.id, engine=engine).city == "London"


def test_marketing_may_change_preferences_only(engine: Engine, john: Customer) -> None:
    saved = update_customer(MARKETING, john.id, 1, {"preferred_channel": "sms"}, engine=engine)
    assert saved.preferred_channel == "sms"
    with pytest.raises(PermissionDenied, match="cannot change city"):
        update_customer(MARKETING, john.id, 2, {"city": "Leeds"}, engine=engine)


def test_grid_saves_valid_rows_together_and_explains_the_rest(engine: Engine,
                                                              john: Customer) -> None:
    ann = create_customer(MANAGER, {"first_name": "Ann", "last_name": "Lee", "country": "DE"},
                          engine=engine)
    bob = create_customer(MANAGER, {"first_name": "Bob", "last_name": "Ray", "country": "FR"},
                          engine=engine)
    result = update_many(MANAGER, [
        (john.id, 1, {"city": "Leeds", "status": "active"}),
        (ann.id, 1, {"status": "vip"}),
        (bob.id, 99, {"city": "Lyon"}),
    ], engine=engine)
    assert result.saved == [john.id]
    assert result.refused[ann.id].startswith("status: Choose one of")
    assert "saved this customer after the list was shown" in result.refused[bob.id]
    assert result.stale == [bob.id]
    assert get_customer(MANAGER, john.id, engine=engine).city == "Leeds"
    assert get_customer(MANAGER, ann.id, engine=engine).status == "lead"
    assert [e.entity_id for e in _events(engine, "customer.update")] == [str(john.id)]


def test_soft_delete_is_admin_only_and_hides_the_customer(engine: Engine,
                                                          john: Customer) -> None:
    with pytest.raises(PermissionDenied):
        soft_delete_customer(MANAGER, john.id, engine=engine)
    soft_delete_customer(ADMIN, john.id, engine=engine)
    with pytest.raises(CustomerNotFound):
        get_customer(MANAGER, john.id, engine=engine)
    assert [e.actor for e in _events(engine, "customer.delete")] == [ADMIN.username]


def test_grid_saves_tags_in_the_same_transaction(engine: Engine, john: Customer) -> None:
    from db.customers.profile import tags_for

    result = update_many(MARKETING, [(john.id, 1, {"tags": TagEdit((), ("VIP", "cycling")),
                                                   "preferred_channel": "sms"})],
                         engine=engine)
    assert result.saved == [john.id]
    assert tags_for(MANAGER, [john.id], engine=engine) == {john.id: ["cycling", "vip"]}
    with pytest.raises(PermissionDenied):
        update_many(MARKETING, [(john.id, 2, {"city": "Leeds"})], engine=engine)
    refused = update_many(MARKETING, [(john.id, 2, {"tags": TagEdit((), ("x" * 60,))})],
                          engine=engine)
    assert refused.saved == [] and refused.refused[john.id].startswith("tags: At most")


def test_a_deleted_customer_says_when_and_by_whom(engine: Engine, john: Customer) -> None:
    soft_delete_customer(ADMIN, john.id, engine=engine)
    with pytest.raises(CustomerDeleted) as seen_by_manager:
        get_customer(MANAGER, john.id, engine=engine)
    gone = seen_by_manager.value.gone
    (event,) = _events(engine, "customer.delete")
    assert (gone.id, gone.deleted_by, gone.name) == (john.id, ADMIN.username, None)
    assert abs((gone.deleted_at - event.at).total_seconds()) < 5
    assert str(seen_by_manager.value) == (
        f"Customer {john.id} was deleted on {gone.deleted_at:%Y-%m-%d %H:%M} UTC "
        f"by {ADMIN.username}.")
    with pytest.raises(CustomerDeleted) as seen_by_admin:
        get_customer(ADMIN, john.id, engine=engine)
    assert seen_by_admin.value.gone.name == "John Smith"
    with pytest.raises(CustomerNotFound) as unknown:
        get_customer(MANAGER, 999_999, engine=engine)
    assert not isinstance(unknown.value, CustomerDeleted)


def test_only_admins_list_and_restore_deleted_customers(engine: Engine, john: Customer) -> None:
    mary = create_customer(MANAGER, {"first_name": "Mary", "last_name": "Jones",
                                     "country": "DE"}, engine=engine)
    soft_delete_customer(ADMIN, john.id, engine=engine)
    soft_delete_customer(Actor("ann", "admin"), mary.id, engine=engine)
    for actor in (MANAGER, MARKETING):
        with pytest.raises(PermissionDenied):
            deleted_customers(actor, engine=engine)
        with pytest.raises(PermissionDenied):
            restore_customer(actor, john.id, engine=engine)
    listed = deleted_customers(ADMIN, engine=engine)
    assert [(d.id, d.name, d.deleted_by) for d in listed] == [
        (mary.id, "Mary Jones", "ann"), (john.id, "John Smith", ADMIN.username)]  # newest first
    restored = restore_customer(ADMIN, john.id, engine=engine)
    assert restored.deleted_at is None
    assert get_customer(MANAGER, john.id, engine=engine).email == "john.smith@example.com"
    assert [d.id for d in deleted_customers(ADMIN, engine=engine)] == [mary.id]
    (event,) = _events(engine, "customer.restore")
    assert event.actor == ADMIN.username
    old, new = json.loads(event.changes)["deleted_at"]
    assert old is not None and new is None
    with pytest.raises(CustomerNotFound):
        restore_customer(ADMIN, john.id, engine=engine)  # not deleted (any more)


def test_delete_then_restore_leaves_derived_tables_as_a_rebuild_makes_them(
    engine: Engine, john: Customer
) -> None:
    """Orders, contacts and consent of a deleted and restored customer count again in the
    summary and the KPI tables exactly as a rebuild counts them, and lookup finds them."""
    mary = create_customer(MANAGER, {"first_name": "Mary", "last_name": "Jones",
                                     "country": "DE"}, engine=engine)
    for customer_id, amount, days in ((john.id, "40.00", 3), (john.id, "7.00", 4),
                                      (john.id, "-5.00", 2), (mary.id, "12.50", 3)):
        record_order(ADMIN, customer_id, amount=amount, category="books", channel="web",
                     product="Novel", ordered_at=utcnow() - timedelta(days=days),
                     engine=engine)
    profile.log_interaction(ADMIN, john.id, kind="call", subject="Welcome", engine=engine)
    profile.record_consent(ADMIN, john.id, purpose="email_marketing", granted=True,
                           source="web", notice_version="v1", engine=engine)
    before = _derived(engine)
    soft_delete_customer(ADMIN, john.id, engine=engine)
    assert _derived(engine) != before
    assert _found(engine, "john smith") == []
    restore_customer(ADMIN, john.id, engine=engine)
    restored = _derived(engine)
    assert restored == before
    with engine.begin() as connection:
        summary.rebuild(connection)
        kpi_tables.rebuild(connection)
        search_index.rebuild(connection)
    assert _derived(engine) == restored
    assert _found(engine, "john smith") == [john.id]
    assert _found(engine, "jonh smiht") == [john.id]  # the typo-tolerant index has it too


def _found(engine: Engine, term: str) -> list[int]:
    return [hit.customer.id for hit in search_customers(MANAGER, term, engine=engine).hits]


def _derived(engine: Engine) -> dict:
    """The summary, every KPI table and the search index, as stored."""
    index = text("SELECT rowid, body FROM customer_search ORDER BY 1"
                 if engine.dialect.name == "sqlite"
                 else "SELECT customer_id, body FROM customer_search ORDER BY 1")
    with engine.connect() as connection:
        tables = {table.table.name: table.stored(connection) for table in kpi_tables.SUMMED}
        tables["daily_customers"] = buyer_cells.stored(connection)
        tables["monthly_customers"] = buyer_cells.stored(connection,
                                                             buyer_cells.MONTHLY)
        tables["summary"] = connection.execute(select(summary.SUMMARY).order_by(
            summary.SUMMARY.c.customer_id)).all()
        tables["search"] = connection.execute(index).all()
    return tables


@pytest.mark.parametrize(("actor", "allowed"), [
    (MANAGER, {"status", "city", "preferred_channel", "tags"}),
    (ADMIN, {"status", "city", "preferred_channel", "tags"}),
    (MARKETING, {"preferred_channel", "tags"}),
    (Actor("x", "nobody"), set()),
])
def test_editable_fields_is_what_the_grid_and_form_leave_enabled(actor: Actor,
                                                                 allowed: set[str]) -> None:
    assert editable_fields(actor, ["status", "city", "preferred_channel", "tags"]) == allowed


def test_marketing_saves_tags_in_the_grid_but_not_a_city(engine: Engine, john: Customer) -> None:
    result = update_many(MARKETING, [(john.id, john.version, {"tags": TagEdit((), ("vip",))})],
                         engine=engine)
    assert result.saved == [john.id]
    with pytest.raises(PermissionDenied):
        update_many(MARKETING, [(john.id, john.version,
                                 {"city": "Leeds", "tags": TagEdit((), ("x",))})], engine=engine)


def test_a_double_click_on_create_makes_one_customer(engine: Engine) -> None:
    """The second "Create customer" click sends the same fields again: without an e-mail
    nothing else stopped it from writing the same person twice."""
    fields = {"first_name": "Ann", "last_name": "Lee", "country": "de", "city": "Bonn"}
    first = create_customer(MANAGER, fields, engine=engine)
    with pytest.raises(AlreadyCreated) as caught:
        create_customer(MANAGER, fields | {"country": "DE "}, engine=engine)
    assert caught.value.existing_id == first.id
    assert len(_events(engine, "customer.create")) == 1


def test_a_double_click_with_an_email_names_the_new_customer_not_a_duplicate(
        engine: Engine, john: Customer) -> None:
    with pytest.raises(AlreadyCreated) as caught:
        create_customer(MANAGER, JOHN, engine=engine)
    assert caught.value.existing_id == john.id


def test_the_same_fields_again_are_a_new_customer_for_someone_else_later_or_confirmed(
        engine: Engine, john: Customer, monkeypatch: pytest.MonkeyPatch) -> None:
    fields = JOHN | {"email": None}
    with pytest.raises(PossibleDuplicate):  # another person: the usual duplicate check
        create_customer(ADMIN, fields, engine=engine)
    assert create_customer(MANAGER, fields, confirm=True, engine=engine).id != john.id
    other = {"first_name": "Eve", "last_name": "Ray", "country": "FR"}
    first = create_customer(MANAGER, other, engine=engine)
    monkeypatch.setattr(recent, "DOUBLE_SUBMIT_WINDOW", timedelta(0))  # the window passed
    assert create_customer(MANAGER, other, engine=engine).id != first.id


def test_a_grid_row_saved_by_someone_else_since_it_was_listed_is_refused_with_their_values(
        engine: Engine, john: Customer) -> None:
    """Two people edit the same row from two screens: the second save must not overwrite
    the first unseen; it is refused with who saved and what the row holds now."""
    first = update_many(MANAGER, [(john.id, 1, {"city": "Leeds"})], engine=engine)
    assert first.saved == [john.id]
    second = update_many(ADMIN, [(john.id, 1, {"city": "York", "status": "active"})],
                         engine=engine)
    assert second.saved == [] and second.stale == [john.id]
    assert second.refused[john.id].startswith(
        f"{MANAGER.username} saved this customer after the list was shown: city is now Leeds.")
    assert get_customer(MANAGER, john.id, engine=engine).city == "Leeds"
    again = update_many(ADMIN, [(john.id, 2, {"city": "York"})], engine=engine)
    assert again.saved == [john.id]  # saved again over the version now shown


def test_tags_typed_in_two_grids_are_both_kept(engine: Engine, john: Customer) -> None:
    """Tags are a change to the current ones: a tag added from another screen since the row
    was listed stays, and only the tags taken away from those shown are removed."""
    from db.customers.profile import tags_for

    update_many(MANAGER, [(john.id, 1, {"tags": TagEdit((), ("gold", "old"))})],
                engine=engine)
    current = get_customer(MANAGER, john.id, engine=engine).version
    update_many(MANAGER, [(john.id, current, {"tags": TagEdit(("gold", "old"),
                                                              ("gold", "old", "mgr"))})],
                engine=engine)
    # Marketing's screen still shows "gold, old"; it adds "mkt" and removes "old".
    result = update_many(MARKETING, [(john.id, current, {"tags": TagEdit(
        ("gold", "old"), ("gold", "mkt"))})], engine=engine)
    assert result.saved == [john.id]
    assert tags_for(MANAGER, [john.id], engine=engine) == {john.id: ["gold", "mgr", "mkt"]}
