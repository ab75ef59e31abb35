"""The import engine on both engines: what a check reports, what a commit writes, and that the
derived tables, the audit trail and a second import of the same file agree with it."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func
from sqlmodel import col, select

from db.audit import trail
from db.audit.search import AuditFilter, search_events
from db.core.access import PermissionDenied
from db.core.engine import read_session
from db.core.sql import table_of
from db.customers.export import ALL_CUSTOMER_COLUMNS, export_all_customers
from db.derived import kpi_tables, search_index, summary
from db.derived.models import CustomerSummary
from db.imports import engine as imports
from db.imports.engine import ImportRefused, Outcome, Request
from db.imports.mapping import suggest
from db.imports.models import ImportRun
from db.imports.reading import open_table
from db.imports.rows import Options
from db.models import AuditEvent, Customer, Interaction, Order
from tests.factories import ADMIN, MANAGER, MARKETING, customer, order

CUSTOMERS = ("Kundennummer;Vorname;Nachname;E-Mail;Land;Ort;Telefon\n"
             "K-1;Jürgen;Müller;juergen@example.de;DE;Köln;0221 1234567\n"
             "K-2;Anna;Groß;ANNA@example.de;Deutschland;Düsseldorf;\n"
             "K-3;Bob;Jones;not-an-email;GB;London;\n"
             "K-4;Anna;Groß;anna@example.de;DE;Bonn;\n"
             "K-5;Zoë;Weiß;;AT;Wien;\n")


def request(kind: str, text: str, *, encoding: str = "latin-1", name: str = "file.csv",
            mapping: dict[str, str | None] | None = None, **options: Any) -> Request:
    data = text.encode(encoding)
    table = open_table(data, name=name)
    return Request(kind, data, table, mapping or suggest(kind, table.columns),
                   Options(**options))


def derived_are_current(engine: Engine) -> None:
    with engine.connect() as connection:
        assert summary.differences(connection) == 0
        assert not any(kpi_tables.differences(connection).values())
        assert search_index.differences(connection) == 0
    assert trail.verify(ADMIN, engine=engine).ok


def counts(outcome: Outcome) -> tuple[int, int, int, int]:
    return outcome.new, outcome.updated, outcome.unchanged, outcome.rejected


def test_a_check_reports_every_row_and_writes_nothing(engine: Engine) -> None:
    outcome = imports.check(ADMIN, request("customers", CUSTOMERS), engine=engine)
    assert counts(outcome) == (3, 0, 0, 2)
    reasons = {reject.line: reject.reason for reject in outcome.rejects}
    assert "not a valid email" in reasons[4]
    assert reasons[5] == "Same e-mail as line 3."
    assert outcome.duplicates == {"anna@example.de": [3, 5]}
    assert outcome.rejects[0].cells["Nachname"] == "Jones"  # the cells as the file had them
    rejects = outcome.rejects_file(open_table(CUSTOMERS.encode("latin-1"), name="x").columns)
    assert rejects.decode("utf-8-sig").splitlines()[0] == (
        "line,reason,Kundennummer,Vorname,Nachname,E-Mail,Land,Ort,Telefon")
    with read_session(engine) as session:
        assert session.exec(select(func.count()).select_from(Customer)).one() == 0
        assert session.exec(select(func.count()).select_from(ImportRun)).one() == 0


def test_a_commit_writes_the_accepted_rows_audited_and_derived_tables_current(
        engine: Engine) -> None:
    outcome = imports.commit(ADMIN, request("customers", CUSTOMERS), engine=engine)
    assert counts(outcome) == (3, 0, 0, 2) and outcome.import_id is not None
    with read_session(engine) as session:
        stored = {c.external_ref: c for c in session.exec(select(Customer))}
        run = session.get(ImportRun, outcome.import_id)
    assert sorted(stored) == ["K-1", "K-2", "K-5"]
    assert (stored["K-1"].phone, stored["K-2"].email, stored["K-2"].country) == (
        "+492211234567", "anna@example.de", "DE")
    assert stored["K-5"].source == "import" and stored["K-5"].version == 1
    assert run is not None and json.loads(run.counts)["new"] == 3 and run.sha256
    derived_are_current(engine)
    history = search_events(ADMIN, AuditFilter(entity="customer",
                                               entity_id=str(stored["K-1"].id)), engine=engine)
    assert [(event.action, json.loads(event.changes)["import"]) for event in history.events] \
        == [("customer.import", outcome.import_id)]
    with read_session(engine) as session:
        assert session.exec(select(AuditEvent.action).where(
            col(AuditEvent.action) == "import.commit")).all() == ["import.commit"]


def test_the_same_file_again_changes_nothing_and_an_edited_one_updates(engine: Engine) -> None:
    imports.commit(ADMIN, request("customers", CUSTOMERS), engine=engine)
    again = imports.commit(ADMIN, request("customers", CUSTOMERS), engine=engine)
    assert counts(again) == (0, 0, 3, 2)
    edited = CUSTOMERS.replace("Köln", "Bonn").replace("Zoë;Weiß;;AT", "Zoë;Weiß;zoe@example.at;AT")
    outcome = imports.commit(ADMIN, request("customers", edited), engine=engine)
    assert counts(outcome) == (0, 2, 1, 2)
    with read_session(engine) as session:
        juergen = session.exec(select(Customer).where(Customer.external_ref == "K-1")).one()
    assert (juergen.city, juergen.version) == ("Bonn", 2)
    history = search_events(ADMIN, AuditFilter(entity="customer", entity_id=str(juergen.id)),
                            engine=engine)
    assert json.loads(history.events[0].changes) == {"city": ["Köln", "Bonn"],
                                                     "import": outcome.import_id}
    derived_are_current(engine)


def test_modes_and_matching_by_email(engine: Engine) -> None:
    known = customer(engine, "Anna", "Groß", email="anna@example.de")
    only_new = imports.commit(ADMIN, request("customers", CUSTOMERS, mode="create_only"),
                              engine=engine)
    assert counts(only_new) == (2, 0, 1, 2)  # Anna exists: left alone, now K-2 is not hers
    only_update = imports.check(ADMIN, request("customers", CUSTOMERS.replace(
        "Düsseldorf", "Essen"), mode="update_only"), engine=engine)
    assert counts(only_update) == (0, 1, 2, 2)
    with read_session(engine) as session:
        stored = session.get(Customer, known.id)
    assert stored is not None and stored.external_ref is None


def test_an_email_of_a_customer_with_another_number_is_refused(engine: Engine) -> None:
    customer(engine, "Anna", "Groß", email="anna@example.de", external_ref="OTHER")
    outcome = imports.check(ADMIN, request("customers", CUSTOMERS), engine=engine)
    reasons = {reject.line: reject.reason for reject in outcome.rejects}
    assert "whose customer number is OTHER" in reasons[3]


ORDERS = ("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
          "536365,85123A,WHITE HANGING HEART,6,12/01/1997 08:26,2.55,17850,United Kingdom\n"
          "536365,71053,WHITE METAL LANTERN,6,12/01/1997 08:26,3.39,17850,United Kingdom\n"
          "536366,22633,HAND WARMER,-2,11/02/1997 09:00,1.85,13047,Germany\n"
          "536367,22634,BAD,1,13/13/1997 09:00,1.85,13047,Germany\n")


def test_an_order_log_creates_its_customers_and_lands_in_every_kpi_table(
        engine: Engine) -> None:
    refused = request("orders", ORDERS)
    with pytest.raises(ImportRefused, match="choose which the file uses"):
        imports.check(ADMIN, refused, engine=engine)
    without = imports.check(ADMIN, request("orders", ORDERS, day_first=False), engine=engine)
    assert counts(without) == (0, 0, 0, 4)
    reasons = {reject.line: reject.reason for reject in without.rejects}
    assert "not a date in month/day/year order" in reasons.pop(5)
    assert all("create customers" in reason for reason in reasons.values())
    log = request("orders", ORDERS, day_first=False, create_customers=True, currency="GBP")
    outcome = imports.commit(ADMIN, log, engine=engine)
    assert (outcome.new, outcome.rejected, outcome.created) == (3, 1, 2)
    with read_session(engine) as session:
        orders = session.exec(select(Order).order_by(col(Order.id))).all()
        buyers = {c.external_ref: c for c in session.exec(select(Customer))}
        since = session.exec(select(CustomerSummary.customer_id, CustomerSummary.order_count)
                             ).all()
    assert [(o.external_ref, o.amount, o.quantity, o.currency) for o in orders] == [
        ("536365", Decimal("15.30"), 6, "GBP"), ("536365/2", Decimal("20.34"), 6, "GBP"),
        ("536366", Decimal("-3.70"), 2, "GBP")]
    assert orders[0].ordered_at == datetime(1997, 12, 1, 8, 26, tzinfo=UTC)
    assert (buyers["17850"].country, buyers["13047"].country) == ("GB", "DE")
    assert buyers["13047"].created_at == datetime(1997, 11, 2, 9, 0, tzinfo=UTC)
    assert sorted(count for _, count in since) == [1, 2]
    derived_are_current(engine)
    again = imports.commit(ADMIN, log, engine=engine)
    assert (again.new, again.unchanged, again.created) == (0, 3, 0)
    derived_are_current(engine)


def test_orders_find_existing_customers_by_email(engine: Engine) -> None:
    known = customer(engine, "Jo", "Buyer", email="jo@example.com")
    order(engine, known.id or 0, "5.00")
    text = "Order;Date;Email;Total\nA-1;2024-05-01;JO@example.com;19,99 €\n"
    outcome = imports.commit(ADMIN, request("orders", text, encoding="cp1252"), engine=engine)
    assert (outcome.new, outcome.created) == (1, 0)
    with read_session(engine) as session:
        amounts = session.exec(select(Order.amount, Order.currency)
                               .where(Order.customer_id == known.id)).all()
    assert sorted(amounts) == [(Decimal("5.00"), "EUR"), (Decimal("19.99"), "EUR")]
    derived_are_current(engine)


def test_interactions_are_logged_once(engine: Engine) -> None:
    known = customer(engine, "Jo", "Caller", external_ref="C-9")
    text = ("Kundennummer;Datum;Art;Betreff;Notiz\n"
            "C-9;05.03.2024 14:30;Anruf;Rückruf;Wollte Angebot\n"
            "C-9;05.03.2024 14:30;Anruf;Rückruf;doppelt\n"
            "C-404;06.03.2024;note;Hallo;\n")
    outcome = imports.commit(ADMIN, request("interactions", text), engine=engine)
    assert counts(outcome) == (1, 0, 0, 2)
    again = imports.commit(ADMIN, request("interactions", text), engine=engine)
    assert counts(again) == (0, 0, 1, 2)
    with read_session(engine) as session:
        logged = session.exec(select(Interaction).where(
            Interaction.customer_id == known.id)).all()
    assert [(i.kind, i.subject, i.at) for i in logged] == [
        ("call", "Rückruf", datetime(2024, 3, 5, 14, 30, tzinfo=UTC))]
    derived_are_current(engine)


def test_large_files_keep_the_derived_tables_current_in_parts_or_by_a_rebuild(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "CHUNK_ROWS", 700)
    monkeypatch.setattr(imports, "PART_CUSTOMERS", 300)
    monkeypatch.setattr(imports, "INCREMENTAL_ROWS", 2_500)  # the orders below rebuild
    rows = [f"N-{n},First{n},Last{n},p{n}@example.org,DE" for n in range(2_050)]
    text = "customer number,first name,last name,email,country\n" + "\n".join(rows) + "\n"
    outcome = imports.commit(ADMIN, request("customers", text, encoding="utf-8"),
                             engine=engine)
    assert outcome.new == 2_050
    derived_are_current(engine)
    orders = "customer number,date,amount,country\n" + "\n".join(
        f"N-{n % 2_100},2020-01-{n % 28 + 1:02d},{n}.50,AT" for n in range(3_000)) + "\n"
    outcome = imports.commit(ADMIN, request("orders", orders, encoding="utf-8",
                                            create_customers=True), engine=engine)
    assert (outcome.new, outcome.created) == (3_000, 50)
    derived_are_current(engine)


def test_only_admins_import_and_a_bad_mapping_is_refused(engine: Engine) -> None:
    for actor in (MANAGER, MARKETING):
        with pytest.raises(PermissionDenied):
            imports.check(actor, request("customers", CUSTOMERS), engine=engine)
    with pytest.raises(ImportRefused, match="Map a column to: Country"):
        imports.check(ADMIN, request("customers", CUSTOMERS, mapping={
            "first_name": "Vorname", "last_name": "Nachname"}), engine=engine)
    with pytest.raises(ImportRefused, match="no column 'Nope'"):
        imports.check(ADMIN, request("customers", CUSTOMERS, mapping={
            "first_name": "Vorname", "last_name": "Nope", "country": "Land"}), engine=engine)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_all_customers_exported_and_imported_into_an_empty_database_are_equal(
        engine: Engine, fmt: str) -> None:
    customer(engine, "Jürgen", "Müller", email="j@example.de", phone="+4922112345678",
             city="Köln", street="Hauptstr. 5", postcode="50667", birth_date="1961-02-03",
             gender="male", occupation="Teacher", income_band="50-75k",
             preferred_channel="email", status="active", source="web", external_ref="K-1")
    customer(engine, "=HYPERLINK(\"http://x\",\"y\")", "-minus", country="AT",
             email="+weird@example.at")
    customer(engine, "Ana", "@Sum", country="ES")
    with read_session(engine) as session:
        before = [c.model_dump(include=set(ALL_CUSTOMER_COLUMNS))
                  for c in session.exec(select(Customer).order_by(col(Customer.id)))]
    out = io.BytesIO()
    assert export_all_customers(ADMIN, out, fmt=fmt, engine=engine) == 3
    with engine.begin() as connection:  # an empty database of customers again
        connection.execute(delete(table_of(Customer)))
        summary.rebuild(connection)
        kpi_tables.rebuild(connection)
        search_index.rebuild(connection)
    table = open_table(out.getvalue(), name=f"customers.{fmt}")
    request = Request("customers", out.getvalue(), table, suggest("customers", table.columns))
    assert counts(imports.commit(ADMIN, request, engine=engine)) == (3, 0, 0, 0)
    with read_session(engine) as session:
        after = [c.model_dump(include=set(ALL_CUSTOMER_COLUMNS))
                 for c in session.exec(select(Customer).order_by(col(Customer.id)))]
    assert after == before
    derived_are_current(engine)


def test_a_customer_file_without_a_country_column_takes_the_chosen_country(
        engine: Engine) -> None:
    text = "first name,last name,email\nAnna,Berg,anna@example.org\nBen,Kurz,ben@example.org\n"
    with pytest.raises(ImportRefused, match="Map a column to: Country"):
        imports.check(ADMIN, request("customers", text), engine=engine)
    outcome = imports.commit(ADMIN, request("customers", text, country="Österreich"),
                             engine=engine)
    assert counts(outcome) == (2, 0, 0, 0)
    moved = imports.commit(ADMIN, request("customers", text, country="DE"), engine=engine)
    assert counts(moved) == (0, 0, 2, 0)  # the default never changes a stored country
    with read_session(engine) as session:
        assert set(session.exec(select(Customer.country))) == {"AT"}


def test_rows_without_number_or_email_are_not_added_twice(engine: Engine) -> None:
    text = ("Vorname;Nachname;Ort;Land\nRenée;Strauß;Wien;AT\nRenée;Strauß;Wien;AT\n"
            "Renée;Strauß;Graz;AT\n")
    first = imports.commit(ADMIN, request("customers", text), engine=engine)
    assert counts(first) == (2, 0, 0, 1)
    assert first.rejects[0].reason == "The same customer as line 2."
    again = imports.commit(ADMIN, request("customers", text), engine=engine)
    assert counts(again) == (0, 0, 2, 1)
    with read_session(engine) as session:
        assert session.exec(select(func.count()).select_from(Customer)).one() == 2
