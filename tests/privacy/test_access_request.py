"""The subject access request: every value held about a customer reaches the zip, for every
table that references customers (found from the metadata, so a table added later fails
here until its rows are exported), never a payment token; admins only, audited, explained
by its README and formula-safe in every CSV cell."""

from __future__ import annotations

import csv
import importlib
import io
import json
import pkgutil
import socket
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, Table, or_, select, update
from sqlmodel import Session, SQLModel

import db
from db.admin import settings
from db.audit import trail
from db.core.access import Actor, PermissionDenied
from db.core.engine import write_session
from db.core.types import utcnow
from db.customers import profile, restriction
from db.customers.service import CustomerNotFound, soft_delete_customer
from db.derived.hook import customers_changed
from db.models import AuditEvent, Customer, Order
from db.predict.models import CustomerPrediction, PredictionFit
from db.privacy.access_request import PARTS, access_request
from db.quality import decisions
from db.quality.merge import merge_customers, merge_plan
from db.quality.models import DuplicateCandidate
from db.segments.definition import Condition, Group
from db.segments.service import save_segment
from tests import factories
from tests.factories import ADMIN, MANAGER, MARKETING

TOKEN = "tok_live_ZQ9xSECRETnever"
# Tables that reference a customer but hold only copies computed from the tables below
# (python -m db.derived rebuild recomputes them from those): their values reach the zip
# through the rows they are computed from.
DERIVED = {
    "customer_summary",  # figures and profile copies: customer, orders, contacts, answers, consent
    "customer_months",  # spend per month: orders
    "order_ranks", "contact_ranks",  # the newest orders' and contacts' times
    "category_buyers",  # the newest order per category, and the customer's country
    "customer_name_word",  # the words of the name, and the name: customer
}
# Stored values that must not leave: the processor's token is a credential, not personal data.
WITHHELD = {("payment_method", "processor_token")}
FORMULA_STARTS = ("=", "+", "-", "@")


def _all_tables() -> dict[str, Table]:
    """Every table any module under db/ declares (each imported, so a model module added
    later counts without being named here)."""
    for module in pkgutil.walk_packages(db.__path__, "db."):
        if ".migrations" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    return dict(SQLModel.metadata.tables)


def _customer_columns(table: Table) -> list[str]:
    """The columns of ``table`` that name a customer: a foreign key to customer.id, or a
    column called customer_id."""
    return [column.name for column in table.columns
            if column.name == "customer_id"
            or any(key.column.table.name == "customer" for key in column.foreign_keys)]


def _referencing() -> dict[str, list[str]]:
    return {name: columns for name, table in _all_tables().items()
            if name != "customer" and (columns := _customer_columns(table))}


def _declared_in_derived() -> set[str]:
    return {mapper.class_.__tablename__ for mapper in SQLModel._sa_registry.mappers
            if mapper.class_.__module__.startswith("db.derived.")}


def _fill(engine: Engine) -> int:
    """One customer with a distinctive value in every column of every table that references
    customers (text that would run as a formula among them), and a bystander."""
    staff = factories.user(engine, "zq-clerk", "manager")
    person = factories.customer(
        engine, "Zelda", "=Quixote-Marlow", email="zelda.qm@example.org", phone="+4930987654",
        street="@Kastanienallee 77", postcode="10435", city="-Zwickau", birth_date="1971-04-09",
        gender="diverse", occupation="+Falconer", income_band="75-100k",
        preferred_channel="sms", status="active", source="event", external_ref="ZQ-7781")
    customer_id = person.id
    assert customer_id is not None
    bystander = factories.customer(engine, "Bystander", "Other", email="by.stander@example.org")
    assert bystander.id is not None
    factories.order(engine, customer_id, "73.41", category="falconry", channel="phone",
                    product="=Leather gauntlet", quantity=3,
                    ordered_at=utcnow() - timedelta(days=40))
    factories.order(engine, customer_id, "-12.07", category="falconry", channel="phone",
                    product="Returned hood")
    with write_session(engine) as session:  # an imported order keeps the shop's number
        session.execute(update(Order).where(Order.customer_id == customer_id,
                                            Order.amount > 0).values(external_ref="SHOP-ZQ-1"))
    profile.log_interaction(ADMIN, customer_id, kind="meeting", direction="inbound",
                            subject="@Hawk consultation", summary="-Asked about merlins",
                            outcome="=Booked", staff_user_id=staff.id, engine=engine)
    factories.feedback(engine, customer_id, 7, comment="+Lovely aviary")
    # Recorded by the clerk: the service takes the recorder from the acting user.
    profile.record_consent(Actor(staff.username, staff.role), customer_id, purpose="sms",
                           granted=True, source="form", notice_version="ZQ-2026-07",
                           engine=engine)
    factories.card(engine, customer_id, brand="amex", last4="3005", exp_month=11,
                   exp_year=2031, processor_token=TOKEN)
    profile.set_tags(ADMIN, customer_id, ["falconer-zq", "@vip"], engine=engine)
    restriction.set_marker(ADMIN, customer_id, "restricted", "=Disputes ZQ address",
                           engine=engine)
    restriction.clear_marker(ADMIN, customer_id, "restricted", "-Settled ZQ", engine=engine)
    diverse = Group(children=[Condition(field="gender", op="eq", value="diverse")])
    save_segment(ADMIN, name="ZQ static", description="-snapshot", kind="static",
                 definition=diverse, engine=engine)
    save_segment(ADMIN, name="ZQ dynamic", description=None, kind="dynamic",
                 definition=diverse, engine=engine)
    # A duplicate check paired them and a reviewer said they are not the same person; a
    # later run stored another pair with them (verdicts and pairs are kept apart).
    decisions.mark(ADMIN, customer_id, bystander.id, same=False, engine=engine)
    with write_session(engine) as session:
        session.add(DuplicateCandidate(left_id=min(customer_id, bystander.id),
                                       right_id=max(customer_id, bystander.id), score=0.61,
                                       reasons="=same ZQ street"))
    with write_session(engine) as session:  # a fit's scores, as db.predict stores them
        fit = PredictionFit(fitted_by="ada", unit="weeks", as_of=date(2026, 11, 30),
                            params="{}", customers_scored=2, buyers=1, repeat_buyers=0,
                            monthly_discount=0.01, seconds=0.5)
        session.add(fit)
        session.flush()
        assert fit.id is not None
        session.add(CustomerPrediction(
            customer_id=customer_id, fit_id=fit.id, kind=2, repeat_purchases=0,
            first_purchase_on=date(2026, 10, 21), last_purchase_on=date(2026, 10, 21),
            p_alive=0.8731, expected_purchases_90d=0.4127, expected_spend=41.73,
            value_12m=163.29))
    return customer_id


# The part of the zip each table's rows go to; _fill writes a row in each (the test fails
# on a table that references customers and is not named here).
EXPORTED_AS: dict[str, str] = {
    "customer": "profile", "orders": "orders", "interaction": "interactions",
    "feedback": "feedback", "consent_event": "consent_history",
    "payment_method": "payment_methods", "customer_tag": "tags", "segment_member": "segments",
    "customer_restriction": "restrictions",
    "duplicate_candidate": "possible_duplicates", "duplicate_decision": "duplicate_verdicts",
    "customer_prediction": "predictions",
}


def _zip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _scalars(value: object) -> Iterator[object]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _scalars(item)
    elif isinstance(value, list):
        for item in value:
            yield from _scalars(item)
    else:
        yield value


def _canonical(value: object) -> str:
    """A stored value as the JSON files write it, compared as JSON text (so 1 ≠ true)."""
    if isinstance(value, datetime | date):
        value = value.isoformat()
    elif isinstance(value, Decimal):
        value = str(value)
    return json.dumps(value)


def _exported_rows(files: dict[str, bytes], part: str) -> list[set[str]]:
    """Each row of a part's JSON file as the set of its values."""
    return [{_canonical(value) for value in _scalars(row)}
            for row in json.loads(files[f"{part}.json"])]


@pytest.fixture
def filled(engine: Engine) -> int:
    return _fill(engine)


def test_every_table_that_references_customers_is_filled_or_derived() -> None:
    referencing = set(_referencing())
    # The derived set is exactly the referencing tables db/derived/ declares.
    assert referencing & _declared_in_derived() == DERIVED
    assert referencing - DERIVED == set(EXPORTED_AS) - {"customer"}, (
        "a table references customers: fill it in _fill and export it in "
        "db/privacy/access_request.py")


@pytest.mark.parametrize("state", ["live", "deleted", "erased"])
def test_every_stored_value_of_the_customer_reaches_the_zip(
        engine: Engine, filled: int, state: str) -> None:
    if state == "deleted":
        soft_delete_customer(ADMIN, filled, engine=engine)
    elif state == "erased":  # the data is still held until the erasure work anonymises it
        with write_session(engine) as session, customers_changed(session, [filled]):
            session.execute(update(Customer).where(Customer.id == filled)
                            .values(erased_at=utcnow()))
    files = _zip(access_request(ADMIN, filled, engine=engine).data)
    missing = []
    with Session(engine) as session:
        for name, columns in (_referencing() | {"customer": ["id"]}).items():
            if name in DERIVED:
                continue
            table = SQLModel.metadata.tables[name]
            stored = session.execute(select(table).where(  # on either side of a pair
                or_(*(table.c[column] == filled for column in columns)))).mappings().all()
            assert stored, f"{name}: the fill wrote no row"
            exported = _exported_rows(files, EXPORTED_AS[name])
            for row in stored:
                # Every value of a stored row is in one exported row of its part.
                values = {column: _canonical(value) for column, value in row.items()
                          if value is not None and (name, column) not in WITHHELD}
                best = max(exported, key=lambda found: len(set(values.values()) & found),
                           default=set())
                missing += [(name, column, value) for column, value in values.items()
                            if value not in best]
    assert missing == []
    everything = b"".join(files.values())
    assert TOKEN.encode() not in everything
    assert b"by.stander@example.org" not in everything  # nobody else's data
    segments = json.loads(files["segments.json"])
    assert {(s["name"], s["kind"]) for s in segments} == (
        {("ZQ static", "static"), ("ZQ dynamic", "dynamic")} if state == "live"
        else {("ZQ static", "static")})  # a dynamic segment holds live customers only


def test_audit_events_about_the_customer_are_all_there(engine: Engine, filled: int) -> None:
    with write_session(engine) as writer:
        trail.record(writer, actor="ada", action="customer.note", entity="customer",
                     entity_id=filled, changes={"city": ["-Zwickau", "Gera"]}, source="form")
    with Session(engine) as session:
        ids = set(session.execute(select(AuditEvent.id).where(
            AuditEvent.entity == "customer", AuditEvent.entity_id == str(filled))).scalars())
    files = _zip(access_request(ADMIN, filled, engine=engine).data)
    events = json.loads(files["audit_events.json"])
    assert len(ids) >= 6 and {event["id"] for event in events} == ids
    assert {event["action"] for event in events} >= {"customer.create", "order.record",
                                                      "interaction.log", "consent.change"}
    assert events[0]["changes"] == {"city": ["-Zwickau", "Gera"]}  # newest first, as stored


def test_the_request_is_audited_without_personal_values(engine: Engine, filled: int) -> None:
    made = access_request(ADMIN, filled, engine=engine)
    with Session(engine) as session:
        event = session.execute(select(AuditEvent).where(
            AuditEvent.action == "customer.access_request")).scalar_one()
    assert (event.actor, event.entity, event.entity_id) == ("ada", "customer", str(filled))
    changes = json.loads(event.changes)
    assert changes == {"file": made.filename, "bytes": len(made.data),
                       **{f"rows of {part}": rows for part, rows in made.rows.items()}}
    assert made.rows["orders"] == 2 and made.rows["tags"] == 2
    assert made.filename == f"access-request-customer-{filled}-{utcnow():%Y-%m-%d}.zip"
    assert "Zelda" not in event.changes and "zelda" not in event.changes


@pytest.mark.parametrize("actor", [MANAGER, MARKETING], ids=lambda actor: actor.role)
def test_refused_for_non_admins(engine: Engine, filled: int, actor: Actor) -> None:
    with pytest.raises(PermissionDenied):
        access_request(actor, filled, engine=engine)
    with Session(engine) as session:
        assert session.execute(select(AuditEvent).where(
            AuditEvent.action == "customer.access_request")).first() is None


def test_an_unknown_customer_is_refused(engine: Engine) -> None:
    with pytest.raises(CustomerNotFound):
        access_request(ADMIN, 424242, engine=engine)


def test_readme_lists_every_file_and_says_when_and_by_whom(engine: Engine,
                                                          filled: int) -> None:
    settings.update(ADMIN, {"company_name": "Kaffeerösterei Lange GmbH"}, engine=engine)
    made = access_request(ADMIN, filled, engine=engine)
    files = _zip(made.data)
    assert sorted(files) == sorted(made.files)
    assert sorted(files) == sorted(["README.txt", *(f"{part}.{ext}" for part in PARTS
                                                    for ext in ("json", "csv"))])
    readme = files["README.txt"].decode()
    for name in files:
        assert name in readme
    assert f"customer #{filled}" in readme
    assert f"Made on {utcnow():%Y-%m-%d}" in readme
    assert "by Kaffeerösterei Lange GmbH with custdb " in readme
    assert socket.gethostname() not in readme  # the file leaves the company
    assert "The customer record is live." in readme


def _csv_cells(files: dict[str, bytes]) -> Iterator[tuple[str, str]]:
    for name, content in files.items():
        if name.endswith(".csv"):
            for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))):
                yield from ((name, cell) for cell in row)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_csv_cells_that_would_run_as_formulas_are_neutralised(engine: Engine,
                                                                filled: int) -> None:
    files = _zip(access_request(ADMIN, filled, engine=engine).data)
    cells = list(_csv_cells(files))
    live_formulas = [(name, cell) for name, cell in cells if cell.startswith(FORMULA_STARTS)
                     and not _is_number(cell) and not cell[1:].isdigit()]
    assert live_formulas == []
    values = {cell for _, cell in cells}
    for typed in ("=Quixote-Marlow", "@Kastanienallee 77", "-Zwickau", "+Falconer",
                  "=Leather gauntlet", "@Hawk consultation", "-Asked about merlins", "=Booked",
                  "+Lovely aviary", "@vip", "-snapshot"):
        assert ("'" + typed) in values, typed
    assert "-12.07" in values  # a refund stays a number
    assert "+4930987654" in values  # a phone number cannot call anything


def test_csv_and_json_hold_the_same_rows(engine: Engine, filled: int) -> None:
    files = _zip(access_request(ADMIN, filled, engine=engine).data)
    for part in PARTS:
        rows = json.loads(files[f"{part}.json"])
        table = list(csv.reader(io.StringIO(files[f"{part}.csv"].decode("utf-8-sig"))))
        assert len(table) - 1 == len(rows), part
        if rows:
            assert table[0] == list(rows[0]), part


def test_payment_methods_leave_masked(engine: Engine, filled: int) -> None:
    files = _zip(access_request(ADMIN, filled, engine=engine).data)
    (card,) = json.loads(files["payment_methods.json"])
    assert (card["brand"], card["card"], card["last4"], card["expiry"]) == (
        "amex", "•••• 3005", "3005", "11/2031")
    assert "processor_token" not in card



def test_a_survivors_request_holds_the_records_merged_into_it(engine: Engine) -> None:
    kept = factories.customer(engine, "Yara", "Kessel", phone="+4930555111222")
    merged = factories.customer(engine, "Yara", "Kesel", email="yara.old@example.org",
                                street="Alte Gasse 9")
    assert kept.id is not None and merged.id is not None
    plan = merge_plan(ADMIN, kept.id, merged.id, engine=engine)
    merge_customers(ADMIN, survivor_id=kept.id, merged_id=merged.id,
                    survivor_version=plan.survivor_version,
                    merged_version=plan.merged_version, keep={"email": "survivor"},
                    engine=engine)
    profile_rows = json.loads(_zip(access_request(ADMIN, kept.id, engine=engine).data)
                              ["profile.json"])
    assert [row["id"] for row in profile_rows] == [kept.id, merged.id]
    assert profile_rows[1]["last_name"] == "Kesel"
    assert profile_rows[1]["merged_into_id"] == kept.id
