"""The per-customer summary: what the write path keeps equals what a rebuild computes."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from db.customers import profile
from db.customers.orders import record_order
from db.customers.service import (
    get_customer,
    soft_delete_customer,
    update_customer,
)
from db.demo.loader import load_demo_data
from db.derived import summary
from db.derived.models import CustomerSummary
from db.models import (
    CONSENT_PURPOSES,
    INTERACTION_KINDS,
    ORDER_CHANNELS,
    Feedback,
    Order,
)
from tests import factories
from tests.factories import ADMIN


def _stored(engine: Engine) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(
            select(summary.SUMMARY).order_by(summary.SUMMARY.c.customer_id))]


def _rebuilt(engine: Engine) -> list[tuple]:
    with engine.begin() as connection:
        summary.rebuild(connection)
    return _stored(engine)


def test_demo_load_writes_the_summary_a_rebuild_computes(engine: Engine) -> None:
    load_demo_data(engine, customers=400, seed=3, as_of=date(2026, 6, 1))
    loaded = _stored(engine)
    assert len(loaded) == 400
    columns = summary.SUMMARY.c.keys()
    assert sum(row[columns.index("order_count")] for row in loaded) > 0  # orders were counted
    with engine.connect() as connection:
        assert summary.differences(connection) == 0
    assert _rebuilt(engine) == loaded


def _edit(customer_id: int, changes: dict, engine: Engine) -> None:
    version = get_customer(ADMIN, customer_id, engine=engine).version
    update_customer(ADMIN, customer_id, version, changes, engine=engine)


def test_service_writes_keep_the_summary_current(engine: Engine) -> None:
    """A random mix of creates, orders, contacts, consent changes, profile edits and a
    deletion, then a rebuild changes nothing."""
    rng = random.Random(5)
    ids = [factories.customer(engine, f"P{i}").id for i in range(6)]
    edits = [{"country": "FR"}, {"birth_date": "1990-02-03"}, {"email": "p@example.org"},
             {"email": ""}, {"phone": "+4930123456"}, {"status": "active"},
             {"gender": "female", "income_band": "25-50k", "source": "web"}]
    for step in range(60):
        customer_id = rng.choice(ids)
        draw = rng.random()
        if draw < 0.3:
            profile.log_interaction(ADMIN, customer_id, kind=rng.choice(INTERACTION_KINDS),
                                    subject=f"contact {step}", engine=engine,
                                    at=datetime.now(UTC) - timedelta(days=rng.randint(0, 90)))
        elif draw < 0.55:  # each its own notice: the same change again is a double submit
            profile.record_consent(ADMIN, customer_id, purpose=rng.choice(CONSENT_PURPOSES),
                                   granted=rng.random() < 0.6, source="form",
                                   notice_version=f"v{step}", engine=engine)
        elif draw < 0.8:
            # Each a different product: the same order again within seconds is refused as
            # a double submit.
            record_order(ADMIN, customer_id, amount="12.50", category="books",
                         channel=rng.choice(ORDER_CHANNELS), product=f"p{step}", engine=engine)
        else:
            _edit(customer_id, rng.choice(edits), engine)
    soft_delete_customer(ADMIN, ids[0], engine=engine)
    kept = _stored(engine)
    assert len(kept) == 6
    columns = summary.SUMMARY.c.keys()
    assert any(row[columns.index("last_interaction_at")] is not None for row in kept)
    assert not kept[0][columns.index("live")]  # the deletion reached the copy
    assert {row[columns.index("country")] for row in kept} == {"DE", "FR"}
    assert any(row[columns.index("channels")] & (row[columns.index("channels")] - 1)
               for row in kept)  # someone used two channels or more
    assert _rebuilt(engine) == kept


def test_refresh_counts_orders_in_cents_and_takes_the_newest_answer(engine: Engine) -> None:
    customer = factories.customer(engine, "Cent", "Exact")
    at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    with Session(engine) as session:
        for amount in ("0.10", "0.20", "0.70", "-0.10"):
            session.add(Order(customer_id=customer.id, ordered_at=at, amount=Decimal(amount),
                              currency="EUR", category="Books", channel="web", product="p",
                              quantity=1))
        session.add(Feedback(customer_id=customer.id, at=at, nps_score=3))
        session.add(Feedback(customer_id=customer.id, at=at, nps_score=10))  # same time, later
        session.flush()
        summary.refresh(session, [customer.id])
        session.commit()
        row = session.get(CustomerSummary, customer.id)
        assert row is not None
        assert (row.order_count, row.spend_cents, row.latest_nps) == (4, 90, 10)
        assert row.first_order_at == row.last_order_at == at
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(summary.SUMMARY)
                                  ).scalar_one() == 1
