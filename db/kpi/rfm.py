"""The KPI page's figures over customers' whole history, from ``customer_recency``: the RFM
grid and the average lifetime value. They do not depend on the period; country and segment
apply, channel and category do not.

Definitions:

- **RFM**: every live customer with an order, scored today (whatever the period) by recency
  (days since the last order: 5 = up to 30, 4 = up to 90, 3 = up to 180, 2 = up to 365,
  1 = longer) and frequency (orders ever: 5 = 10 or more, 4 = 5-9, 3 = 3-4, 2 = 2, 1 = 1),
  with their spend as the monetary part; :data:`RFM_GROUPS` names the cells.
- **Average customer lifetime value**: all the spend to date of the live customers with at
  least one order ÷ how many they are.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Engine, case, func, select

from db.core.access import Actor, Capability, require
from db.core.types import utcnow
from db.derived.recency_cells import RECENCY_CELLS
from db.kpi import scope as kpi_scope
from db.kpi.filters import NO_FILTERS, Filters, cells, narrowed

_RECENCY_DAYS = (30, 90, 180, 365)  # the last day of scores 5, 4, 3 and 2
_FREQUENCY_ORDERS = (10, 5, 3, 2)  # the fewest orders of scores 5, 4, 3 and 2


def _rfm_group(recency: int, frequency: int) -> str:
    """The usual names of an RFM grid's regions."""
    if recency >= 4 and frequency >= 4:
        return "Champions"
    if recency >= 3 and frequency >= 3:
        return "Loyal"
    if recency == 5 and frequency == 1:
        return "New"
    if recency >= 4:
        return "Promising"
    if recency == 3:
        return "Need attention"
    if recency == 2:
        return "At risk" if frequency >= 3 else "Hibernating"
    return "Can't lose" if frequency >= 4 else "Lost"


RFM_GROUPS = {(recency, frequency): _rfm_group(recency, frequency)
              for recency in range(1, 6) for frequency in range(1, 6)}


def rfm(actor: Actor, filters: Filters = NO_FILTERS, *, today: date | None = None,
        engine: Engine | None = None) -> pd.DataFrame:
    """Customers per RFM cell: ``recency`` and ``frequency`` scores, ``group``,
    ``customers`` and ``spend_cents`` (their spend to date)."""
    require(actor, Capability.VIEW_KPIS)
    day = today or utcnow().date()
    with kpi_scope.connect(engine) as connection:
        rows = cells(connection, RECENCY_CELLS, filters)
        # Days since the last order = today − its day; score 5 for at most 30, and so on.
        recency = case(*((rows.c.last_order_day >= day - timedelta(days=days), 5 - index)
                         for index, days in enumerate(_RECENCY_DAYS)), else_=1)
        frequency = case(*((rows.c.orders >= orders, 5 - index)
                           for index, orders in enumerate(_FREQUENCY_ORDERS)), else_=1)
        query = (select(recency.label("recency"), frequency.label("frequency"),
                        func.sum(rows.c.customers), func.sum(rows.c.spend_cents))
                 .where(*narrowed(rows, filters)).group_by(recency, frequency))
        frame = pd.DataFrame(connection.execute(query).all(),
                             columns=["recency", "frequency", "customers", "spend_cents"])
    frame = frame.astype("int64")
    frame.insert(2, "group", [RFM_GROUPS[(int(r), int(f))]
                              for r, f in zip(frame["recency"], frame["frequency"], strict=True)])
    return frame.sort_values(["recency", "frequency"], ascending=False, ignore_index=True)


def average_lifetime_value_cents(actor: Actor, filters: Filters = NO_FILTERS, *,
                                 engine: Engine | None = None) -> float | None:
    """Spend to date per live customer with at least one order."""
    require(actor, Capability.VIEW_KPIS)
    with kpi_scope.connect(engine) as connection:
        rows = cells(connection, RECENCY_CELLS, filters)
        spend, customers = connection.execute(
            select(func.sum(rows.c.spend_cents), func.sum(rows.c.customers))
            .where(*narrowed(rows, filters))).one()
    return int(spend) / int(customers) if customers else None
