"""A shop whose whole order log is from 1997–98, as a team loading its old point-of-sale
history has: orders from 2 Jan 1997 to 30 Jun 1998, nothing since, some customers on file
since 1997. Built through the services (so the write hook keeps the derived tables), and
returned as a DataFrame for the pandas side of the checks."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pandas as pd
from sqlalchemy import Engine, update
from sqlmodel import col

from db.core.engine import write_session
from db.derived import summary
from db.models import Customer
from tests import factories

FIRST_DAY = date(1997, 1, 2)
LAST_DAY = date(1998, 6, 30)
COUNTRIES = ("DE", "AT", "FR")
# On file since (created_at) for the first four customers; the others keep today's.
ON_FILE_SINCE = datetime(1997, 1, 1, 9, 0, tzinfo=UTC)


def build(engine: Engine, *, customers: int = 8, seed: int = 1997) -> pd.DataFrame:
    """The shop's orders (customer_id, at, amount, country), one per row."""
    rng = random.Random(seed)
    ids = [factories.customer(engine, f"Old{index}", "Shopper",
                              country=COUNTRIES[index % 3]).id for index in range(customers)]
    span = (LAST_DAY - FIRST_DAY).days
    rows = [(ids[0], datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC)
             + timedelta(hours=10), Decimal("25.00")),
            (ids[1], datetime.combine(LAST_DAY, datetime.min.time(), tzinfo=UTC)
             + timedelta(hours=23, minutes=59), Decimal("40.00"))]
    for customer_id in ids:
        for _ in range(rng.randint(1, 6)):
            at = (datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC)
                  + timedelta(days=rng.randint(0, span), seconds=rng.randint(0, 86_399)))
            rows.append((customer_id, at, Decimal(rng.choice(["9.99", "120.00", "-5.00",
                                                               "33.30"]))))
    for customer_id, at, amount in rows:
        factories.order(engine, customer_id, str(amount), ordered_at=at)
    put_on_file_since(engine, ids[:4])
    frame = pd.DataFrame(rows, columns=["customer_id", "at", "amount"])
    frame["country"] = frame["customer_id"].map(
        {customer_id: COUNTRIES[index % 3] for index, customer_id in enumerate(ids)})
    return frame


def put_on_file_since(engine: Engine, customer_ids: list[int], since: datetime = ON_FILE_SINCE
                      ) -> None:
    """Set these customers' created_at to ``since``.

    ``create_customer`` sets created_at to now and takes no other value, so this is a direct
    update, with the summary (which copies created_at) refreshed for them in the same
    transaction, as the derived hook does after every write.
    """
    with write_session(engine) as session:
        session.execute(update(Customer).where(col(Customer.id).in_(customer_ids))
                        .values(created_at=since))
        summary.refresh(session, customer_ids)
