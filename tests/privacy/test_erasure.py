"""Erasure: nothing personal is left in any table, the audit chain still verifies, the orders
still count, and the suppression list stops the person coming back unnoticed."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import Engine, String, Text, func, inspect, select, text
from sqlalchemy.types import TypeEngine
from sqlmodel import Session, SQLModel

from db.audit import trail
from db.core.access import PermissionDenied
from db.core.types import utcnow
from db.customers import profile, restriction
from db.customers.service import get_customer, update_customer
from db.customers.suppression import lift
from db.customers.validation import InvalidFields
from db.derived import kpi_tables, search_index, summary
from db.derived.hook import customers_changed
from db.imports.engine import commit
from db.models import AuditEvent, Customer, CustomerTag, Feedback, Order, PaymentMethod, Segment
from db.predict.models import CustomerPrediction, PredictionFit
from db.privacy.erasure import ErasureRefused, erase_customer
from db.search.export import export_results
from db.segments import service as segments
from db.segments.definition import Condition, Group
from tests import factories
from tests.factories import ADMIN, MANAGER
from tests.imports.test_engine import request

EMAIL = "zenobia.quartermaine@example.org"
PHONE = "+4930901820777"
FIRST, LAST = "Zenobia", "Quartermaine"
PERSONAL = (EMAIL, PHONE, FIRST, LAST, "Lindenallee 42", "Quartermaine-Ref-7")


def _filled(engine: Engine) -> Customer:
    """One customer with a value in every table that refers to customers, and events that
    name them: their own, and a lookup export searching for their name."""
    person = factories.customer(engine, FIRST, LAST, email=EMAIL, phone=PHONE,
                                street="Lindenallee 42", postcode="10115", city="Berlin",
                                external_ref="Quartermaine-Ref-7", birth_date="1980-02-03")
    assert person.id is not None
    factories.order(engine, person.id, "120.00")
    factories.order(engine, person.id, "-20.00")
    profile.log_interaction(ADMIN, person.id, kind="call", subject=f"Call with {FIRST}",
                            summary=f"{FIRST} {LAST} asked about {EMAIL}", engine=engine)
    profile.record_consent(ADMIN, person.id, purpose="email_marketing", granted=True,
                           source="web", notice_version="v1", engine=engine)
    profile.set_tags(ADMIN, person.id, ["vip"], engine=engine)
    restriction.set_marker(ADMIN, person.id, "do_not_contact",
                           f"{FIRST} {LAST} called: no more letters", engine=engine)
    restriction.clear_marker(ADMIN, person.id, "do_not_contact",
                             f"{FIRST} asked again by {EMAIL}", engine=engine)
    restriction.set_marker(ADMIN, person.id, "restricted", f"{LAST} disputes data",
                           engine=engine)
    with Session(engine) as session:
        with customers_changed(session, [person.id]):
            session.add(Feedback(customer_id=person.id, at=utcnow(), nps_score=9,
                                 comment=f"Signed {FIRST} {LAST}"))
            session.add(PaymentMethod(customer_id=person.id, brand="visa", last4="4242",
                                      exp_month=1, exp_year=2030,
                                      processor_token="tok_zenobia"))
        session.commit()
    segments.save_segment(ADMIN, name="Static Germans", description=None, kind="static",
                          definition=Group(children=[Condition(field="country", op="eq",
                                                               value="DE")]),
                          engine=engine)
    export_results(ADMIN, f"{FIRST} {LAST}", engine=engine)
    return get_customer(ADMIN, person.id, engine=engine)


def _is_text(kind: TypeEngine[object]) -> bool:
    """Text of any kind: SQLModel's AutoString wraps String, the JSON columns are Text."""
    return isinstance(kind, (String, Text)) or isinstance(getattr(kind, "impl", None),
                                                           (String, Text))


def _hits(engine: Engine, needle: str) -> list[str]:
    """Every text cell in every table (and the search index) holding ``needle``."""
    found = []
    with engine.connect() as connection:
        names = inspect(connection).get_table_names()
        for table in SQLModel.metadata.sorted_tables:
            for column in table.columns:
                if _is_text(column.type):
                    count = connection.execute(select(func.count()).select_from(table).where(
                        func.lower(column).contains(needle.lower(), autoescape=True))
                    ).scalar_one()
                    if count:
                        found.append(f"{table.name}.{column.name}")
        assert "customer_search" in names
        if connection.execute(text("SELECT count(*) FROM customer_search "
                                   "WHERE lower(body) LIKE :n"),
                              {"n": f"%{needle.lower()}%"}).scalar_one():
            found.append("customer_search.body")
    return found


def test_erasure_leaves_no_personal_value_and_the_chain_verifies(engine: Engine) -> None:
    person = _filled(engine)
    assert all(_hits(engine, value) for value in PERSONAL), {v: _hits(engine, v) for v in PERSONAL}
    with engine.connect() as connection:
        revenue_before = connection.execute(select(func.sum(Order.amount))).scalar_one()
    done = erase_customer(ADMIN, person.id or 0, confirmation=EMAIL.upper(), engine=engine)
    for value in PERSONAL:
        assert _hits(engine, value) == [], value
    assert done.suppressed and done.redacted_events >= 6 and done.unredactable_events == 0
    report = trail.verify(ADMIN, engine=engine)
    assert report.ok and report.redacted == done.redacted_events, trail.describe(report)
    assert "Erasures removed the details" in trail.describe(report)
    with Session(engine) as session:
        erased = session.get(Customer, person.id)
        assert erased is not None and erased.erased_at is not None
        assert (erased.first_name, erased.last_name) == ("Erased", done.pseudonym)
        assert session.execute(select(func.sum(Order.amount))).scalar_one() == revenue_before
        assert revenue_before == Decimal("100.00")
        for linked in (PaymentMethod, CustomerTag):
            assert session.execute(select(func.count()).select_from(linked)).scalar_one() == 0
        static = session.execute(select(Segment)).scalar_one()
        assert static.kind == "static"
        assert session.execute(text("SELECT count(*) FROM segment_member")).scalar_one() == 0
        event = session.execute(select(AuditEvent).order_by(AuditEvent.id.desc())).scalars(
        ).first()
        assert event is not None and event.action == "customer.erase"
        assert json.loads(event.changes)["redacted_events"]
    with engine.connect() as connection:  # the derived tables follow, the orders still count
        assert summary.differences(connection) == 0
        assert search_index.differences(connection) == 0
        stale = kpi_tables.differences(connection)
        assert not any(stale.values()), {k: v for k, v in stale.items() if v}


def test_an_erased_email_cannot_come_back_unnoticed(engine: Engine) -> None:
    person = _filled(engine)
    erase_customer(ADMIN, person.id or 0, confirmation=str(person.id), engine=engine)
    with pytest.raises(InvalidFields) as refused:
        factories.customer(engine, "Zoe", "Other", email=" Zenobia.Quartermaine@EXAMPLE.org ")
    assert "erased at their request" in refused.value.errors["email"]
    other = factories.customer(engine, "Zoe", "Other")
    with pytest.raises(InvalidFields, match="erased at their request"):
        update_customer(MANAGER, other.id or 0, other.version, {"email": EMAIL}, engine=engine)
    people = commit(ADMIN, request("customers", f"first_name,last_name,email,country\n"
                                   f"Zen,Q,{EMAIL},DE\n", encoding="utf-8"), engine=engine)
    assert people.new == 0 and "erased at their request" in people.rejects[0].reason
    orders = commit(ADMIN, request("orders", f"email,ordered_at,amount\n{EMAIL},2026-11-02,"
                                   "9.99\n", encoding="utf-8", create_customers=True),
                    engine=engine)
    assert orders.new == 0 and "erased at their request" in orders.rejects[0].reason
    assert lift(ADMIN, EMAIL, engine=engine)
    assert factories.customer(engine, "Zen", "Back", email=EMAIL).email == EMAIL
    assert trail.verify(ADMIN, engine=engine).ok


def test_erasure_is_for_admins_and_needs_the_typed_confirmation(engine: Engine) -> None:
    person = factories.customer(engine, FIRST, LAST, email=EMAIL)
    with pytest.raises(PermissionDenied):
        erase_customer(MANAGER, person.id or 0, confirmation=EMAIL, engine=engine)
    with pytest.raises(PermissionDenied):
        lift(MANAGER, EMAIL, engine=engine)
    with pytest.raises(ErasureRefused, match="type this customer's e-mail"):
        erase_customer(ADMIN, person.id or 0, confirmation="someone@else.org", engine=engine)
    assert get_customer(ADMIN, person.id or 0, engine=engine).email == EMAIL
    erase_customer(ADMIN, person.id or 0, confirmation=f" {person.id} ", engine=engine)
    with pytest.raises(ErasureRefused, match="already erased"):
        erase_customer(ADMIN, person.id or 0, confirmation=str(person.id), engine=engine)


def test_erasure_removes_the_customers_prediction_scores(engine: Engine) -> None:
    """Scores are profiling of the person: they go with the erasure, not at the next fit."""
    person = _filled(engine)
    other = factories.customer(engine, email="someone.else@example.com")
    with Session(engine) as session:
        fit = PredictionFit(fitted_by="admin", unit="weeks", as_of=utcnow().date(),
                            params="{}", customers_scored=2, buyers=2, repeat_buyers=1,
                            monthly_discount=0.01, seconds=0.1)
        session.add(fit)
        session.flush()
        for customer_id in (person.id, other.id):
            session.add(CustomerPrediction(customer_id=customer_id or 0, fit_id=fit.id or 0,
                                           kind=3, repeat_purchases=2, p_alive=0.8,
                                           expected_purchases_90d=1.2, value_12m=250.0))
        session.commit()
    erase_customer(ADMIN, person.id or 0, confirmation=EMAIL, engine=engine)
    with Session(engine) as session:
        left = session.execute(select(CustomerPrediction.customer_id)).scalars().all()
    assert left == [other.id]
