"""The home page's short overview of what the database holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import col, func, select

from db.core.access import Actor, Capability, require
from db.core.engine import read_session
from db.models import Customer, Interaction, Order, live


@dataclass(frozen=True)
class Overview:
    customers: int
    orders: int
    interactions: int
    last_order_at: datetime | None
    last_customer_change_at: datetime | None


def database_overview(actor: Actor, *, engine: Engine | None = None) -> Overview:
    """Counts (only live customers) and the latest activity: no personal data, but still
    only for a role that may look customers up (every role today)."""
    require(actor, Capability.LOOKUP)
    with read_session(engine) as session:
        return Overview(
            customers=session.exec(select(func.count()).select_from(Customer).where(live())).one(),
            # Orders as the KPI page counts them: of zero or more (refunds apart).
            orders=session.exec(select(func.count()).select_from(Order)
                                .where(col(Order.amount) >= 0)).one(),
            interactions=session.exec(select(func.count()).select_from(Interaction)).one(),
            last_order_at=session.exec(select(func.max(Order.ordered_at))).one(),
            last_customer_change_at=session.exec(select(func.max(Customer.updated_at))).one(),
        )
