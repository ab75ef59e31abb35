"""Consent columns of a customer import, on both engines: a statement that differs from the
customer's current state appends one row (source import, the import's notice version,
recorded by the importing user), the check counts them, the same file again appends nothing,
and a bad value is a row problem."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine, select

from db.customers import consent
from db.derived.models import CustomerSummary
from db.imports import engine as imports
from db.imports.engine import ImportRefused, Request
from db.imports.mapping import suggest
from db.imports.reading import open_table
from db.imports.rows import Options
from db.models import AuditEvent, Customer
from tests.factories import ADMIN, customer, user
from tests.imports.test_engine import derived_are_current

FILE = ("Kundennummer;Vorname;Nachname;E-Mail;Land;consent_email_marketing;consent_sms;"
        "Einwilligung Profiling\n"
        "K-1;Jürgen;Müller;juergen@example.de;DE;yes;;granted\n"
        "K-2;Anna;Groß;anna@example.de;DE;NEIN;0;\n"
        "K-3;Bob;Jones;bob@example.org;GB;maybe;1;\n")


def request(text: str, **options: Any) -> Request:
    data = text.encode("utf-8")
    table = open_table(data, name="consent.csv")
    return Request("customers", data, table, suggest("customers", table.columns),
                   Options(**options))


def _history(engine: Engine, email: str) -> list[consent.ConsentRecord]:
    with engine.connect() as connection:
        customer_id = connection.execute(
            select(Customer.id).where(Customer.email == email)).scalar_one()
    return consent.history(ADMIN, customer_id, engine=engine)


def test_the_columns_are_suggested_by_their_names() -> None:
    mapping = request(FILE).mapping
    assert (mapping["consent_email_marketing"], mapping["consent_sms"],
            mapping["consent_profiling"], mapping["consent_third_party_sharing"]) == (
        "consent_email_marketing", "consent_sms", "Einwilligung Profiling", None)
    assert mapping["email"] == "E-Mail"


def test_a_notice_version_is_required_when_a_consent_column_is_mapped(engine: Engine) -> None:
    with pytest.raises(ImportRefused, match="privacy notice version"):
        imports.check(ADMIN, request(FILE), engine=engine)
    without = request(FILE)
    mapping = {name: None if name.startswith("consent_") else column
               for name, column in without.mapping.items()}
    assert imports.refusals(Request("customers", without.source, without.table, mapping,
                                    without.options)) == []
    with pytest.raises(ImportRefused, match="Privacy notice version: 1 to 20"):
        imports.check(ADMIN, request(FILE, notice_version="x" * 21), engine=engine)


def test_an_import_appends_what_differs_and_again_nothing(engine: Engine) -> None:
    user(engine, "ada", role="admin")  # ADMIN's account: the recorder
    stored = customer(engine, "Anna", "Groß", email="anna@example.de", external_ref="K-2")
    assert stored.id is not None
    consent.record_consent(ADMIN, stored.id, purpose="email_marketing", granted=False,
                           source="web", notice_version="2025-03", engine=engine)
    checked = imports.check(ADMIN, request(FILE, notice_version="2026-02"), engine=engine)
    # K-1: two statements (new customer); K-2: e-mail marketing already withdrawn, SMS no
    # (never asked before); K-3 rejected.
    assert (checked.new, checked.updated, checked.unchanged, checked.rejected,
            checked.consent) == (1, 1, 0, 1, 3)
    (reject,) = checked.rejects
    assert (reject.line, reject.reason) == (4, "Consent: e-mail marketing: 'maybe' is not a "
                                               "consent value: write yes or no (also "
                                               "true/false, 1/0, granted/withdrawn), or leave "
                                               "the cell empty.")
    assert consent.history(ADMIN, stored.id, engine=engine)[0].source == "web"  # nothing yet

    done = imports.commit(ADMIN, request(FILE, notice_version="2026-02"), engine=engine)
    assert (done.new, done.updated, done.consent) == (1, 1, 3)
    juergen = _history(engine, "juergen@example.de")
    assert sorted((r.purpose, r.granted, r.source, r.notice_version, r.recorded_by)
                  for r in juergen) == [
        ("email_marketing", True, "import", "2026-02", "Ada (ada)"),
        ("profiling", True, "import", "2026-02", "Ada (ada)")]
    anna = consent.history(ADMIN, stored.id, engine=engine)
    assert [(r.purpose, r.granted, r.source) for r in anna] == [
        ("sms", False, "import"), ("email_marketing", False, "web")]
    with engine.connect() as connection:
        summary_row = connection.execute(select(CustomerSummary).where(
            CustomerSummary.customer_id == stored.id)).one()
        assert summary_row.consent_sms is False and summary_row.consent_email_marketing is False
        events = connection.execute(select(AuditEvent.changes).where(
            AuditEvent.action == "customer.import", AuditEvent.entity_id == str(stored.id))
        ).scalars().all()
        commit_event = connection.execute(select(AuditEvent.changes).where(
            AuditEvent.action == "import.commit")).scalar_one()
    assert json.loads(events[0])["consent_sms"] == [None, False]
    assert json.loads(commit_event)["notice_version"] == "2026-02"
    assert json.loads(commit_event)["consent_rows"] == 3
    derived_are_current(engine)

    again = imports.commit(ADMIN, request(FILE, notice_version="2026-03"), engine=engine)
    assert (again.new, again.updated, again.unchanged, again.consent) == (0, 0, 2, 0)
    assert len(_history(engine, "juergen@example.de")) == 2

    changed = FILE.replace("K-1;Jürgen;Müller;juergen@example.de;DE;yes;;granted",
                           "K-1;Jürgen;Müller;juergen@example.de;DE;withdrawn;;")
    later = imports.commit(ADMIN, request(changed, notice_version="2026-03"), engine=engine)
    assert (later.updated, later.consent) == (1, 1)
    newest = _history(engine, "juergen@example.de")[0]
    assert (newest.purpose, newest.granted, newest.notice_version) == (
        "email_marketing", False, "2026-03")
    derived_are_current(engine)


def test_only_create_leaves_existing_customers_consent_alone(engine: Engine) -> None:
    stored = customer(engine, "Anna", "Groß", email="anna@example.de", external_ref="K-2")
    assert stored.id is not None
    text = FILE.replace("K-3;Bob;Jones;bob@example.org;GB;maybe;1;\n", "")
    done = imports.commit(ADMIN, request(text, notice_version="2026-02", mode="create_only"),
                          engine=engine)
    assert (done.new, done.unchanged, done.consent) == (1, 1, 2)
    assert consent.history(ADMIN, stored.id, engine=engine) == []


def test_a_large_file_rebuilt_at_the_end_holds_the_consent_too(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "INCREMENTAL_ROWS", 1)  # written in bulk, then rebuilt
    text = FILE.replace("K-3;Bob;Jones;bob@example.org;GB;maybe;1;\n", "")
    done = imports.commit(ADMIN, request(text, notice_version="2026-02"), engine=engine)
    assert (done.new, done.consent) == (2, 4)
    assert [r.recorded_by for r in _history(engine, "anna@example.de")] == [None, None]
    derived_are_current(engine)
