"""The shop every KPI test reads: random orders with the edges the definitions name (an
order at 23:59:59 on a period's last day and at midnight after it, refunds, zero amounts,
two first orders at the same moment, customers without orders and a deleted customer whose
sales still count), kept in the KPI tables and returned as DataFrames too."""

from __future__ import annotations

import random
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from db.core.access import Actor
from db.customers.service import soft_delete_customer
from db.derived import kpi_tables, summary
from db.models import INTERACTION_KINDS, ORDER_CHANNELS, Feedback, Interaction, Order, Segment
from db.segments.definition import Condition, Group
from db.segments.service import save_segment
from tests import factories
from tests.factories import MANAGER
from tests.kpi.reference import CATEGORIES, COUNTRIES, utc_at


@pytest.fixture
def shop(engine: Engine) -> dict:
    """Customers, orders, answers and contacts; returns the rows as DataFrames too."""
    rng = random.Random(23)
    ids = [factories.customer(engine, f"K{index}", "Test", country=COUNTRIES[index % 3]).id
           for index in range(14)]
    orders, answers, contacts = [], [], []
    for customer_id in ids[:11]:  # the last three never order
        for _ in range(rng.randint(1, 12)):
            orders.append((customer_id, utc_at(rng.randint(0, 120), rng.randint(0, 86_399)),
                           Decimal(rng.choice(["9.99", "0.00", "-4.50", "150.00", "0.01"])),
                           rng.choice(CATEGORIES), rng.choice(ORDER_CHANNELS)))
        answers += [(customer_id, utc_at(rng.randint(0, 120)), rng.randint(0, 10))
                    for _ in range(rng.randint(0, 3))]
        contacts += [(customer_id, utc_at(rng.randint(0, 120)), rng.choice(INTERACTION_KINDS))
                     for _ in range(rng.randint(0, 4))]
    # The edges of the period 31-60 (days counted from DAY0).
    orders += [(ids[0], utc_at(60, 86_399), Decimal("10.00"), "books", "web"),
               (ids[1], utc_at(61, 0), Decimal("20.00"), "books", "web"),
               (ids[2], utc_at(30, 86_399), Decimal("-3.00"), "wine", "app"),
               (ids[11], utc_at(45), Decimal("5.00"), "wine", "web"),  # two first orders,
               (ids[11], utc_at(45), Decimal("7.00"), "books", "app")]  # one moment
    with Session(engine) as session:
        for customer_id, at, amount, category, channel in orders:
            session.add(Order(customer_id=customer_id, ordered_at=at, amount=amount,
                              category=category, channel=channel, product="p"))
        for customer_id, at, score in answers:
            session.add(Feedback(customer_id=customer_id, at=at, nps_score=score))
        for customer_id, at, kind in contacts:
            session.add(Interaction(customer_id=customer_id, at=at, kind=kind,
                                    direction="outbound", subject="s"))
        session.flush()
        summary.rebuild(session)  # first: the recency table reads it
        kpi_tables.rebuild(session)
        session.commit()
        order_ids = session.execute(select(Order.id).order_by(Order.id)).scalars().all()
    soft_delete_customer(Actor("ada", "admin"), ids[3], engine=engine)
    order_frame = pd.DataFrame(orders, columns=["customer_id", "at", "amount", "category",
                                                "channel"])
    order_frame["id"] = order_ids
    return {
        "ids": ids,
        "orders": order_frame,
        "country": {customer_id: COUNTRIES[index % 3] for index, customer_id in enumerate(ids)},
        "answers": pd.DataFrame(answers, columns=["customer_id", "at", "score"]),
        "contacts": pd.DataFrame(contacts, columns=["customer_id", "at", "kind"]),
    }


@pytest.fixture
def austria(engine: Engine, shop: dict) -> tuple[Segment, set[int]]:
    """A saved dynamic segment of the shop's Austrians, and its live members' ids."""
    austrians = Group(children=[Condition(field="country", op="eq", value="AT")])
    segment = save_segment(MANAGER, name="Austria", description=None, kind="dynamic",
                           definition=austrians, engine=engine)
    members = {customer_id for customer_id, country in shop["country"].items()
               if country == "AT" and customer_id != shop["ids"][3]}
    return segment, members
