"""``order_ranks`` and ``contact_ranks``: each customer's newest orders' and contacts' times;
``category_buyers``: each customer's newest order per category.

A segment such as "10 or more orders in the last 365 days" used to count each candidate's
orders in the window: 268,000 correlated counts at a million customers, about a second on
SQLite, whether they read the orders or per-customer monthly counts (each probe costs a few
microseconds however few rows it reads; see bench/RESULTS.md). A customer has at least n rows
since a moment exactly when their n-th newest row is at or after it, so with the times ranked
the same test is one range of the ``(rank, at)`` index: the customers who pass, read once.
Likewise "bought books in the last 90 days" is the newest book order in them: one row per
buyer, narrowed by country before any customer is looked up, where the orders of the window
(100,000 at a million customers) had to be made distinct and each buyer's summary read.

The rows are derived data: a write refreshes the touched customers' rows in its own
transaction (through :func:`db.derived.kpi_tables.kept_current`), ``python -m db.derived
rebuild`` recomputes them, and :func:`differences` counts the rows that differ from a fresh
computation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from sqlalchemy import BindParameter, Connection, Table, delete, func, insert, select
from sqlmodel import Session

from db.core.sql import IDS, ids_parameter, table_of
from db.derived.models import RANKED, CategoryBuyer, ContactRank, OrderRank
from db.models import Customer, Interaction, Order

ORDER_RANKS = table_of(OrderRank)
CONTACT_RANKS = table_of(ContactRank)
CATEGORY_BUYERS = table_of(CategoryBuyer)
_ORDERS = table_of(Order)
_CUSTOMERS = table_of(Customer)
# Each rank table with the rows it ranks and their time column.
_SOURCES = ((ORDER_RANKS, table_of(Order), "ordered_at"),
            (CONTACT_RANKS, table_of(Interaction), "at"))
_COLUMNS = ["customer_id", "rank", "at"]


def _ranked(source: Table, moment: str, customer_ids: BindParameter[Any] | None = None
            ) -> Any:
    """(customer, rank, time) of the newest :data:`RANKED` rows of some or all customers."""
    rank = func.row_number().over(partition_by=source.c.customer_id,
                                  order_by=(source.c[moment].desc(), source.c.id.desc()))
    inner = select(source.c.customer_id, rank.label("rank"), source.c[moment].label("at"))
    if customer_ids is not None:
        inner = inner.where(source.c.customer_id.in_(customer_ids))
    numbered = inner.subquery()
    return select(numbered.c.customer_id, numbered.c.rank, numbered.c.at).where(
        numbered.c.rank <= RANKED)


def _newest_per_category(customer_ids: BindParameter[Any] | None = None) -> Any:
    """(customer, category, the customer's country, newest order's time) of some or all
    customers."""
    query = (select(_ORDERS.c.customer_id, _ORDERS.c.category, _CUSTOMERS.c.country,
                    func.max(_ORDERS.c.ordered_at))
             .join_from(_ORDERS, _CUSTOMERS, _CUSTOMERS.c.id == _ORDERS.c.customer_id)
             .group_by(_ORDERS.c.customer_id, _ORDERS.c.category, _CUSTOMERS.c.country))
    if customer_ids is not None:
        query = query.where(_ORDERS.c.customer_id.in_(customer_ids))
    return query


_BUYER_COLUMNS = ["customer_id", "category", "country", "last_at"]
# Each table with what fills it, for some customers (built once: see
# db.core.sql.ids_parameter) or for all.
_Filled = tuple[Table, list[str], Callable[..., Any]]
_RANKED_TABLES: list[_Filled] = [(target, _COLUMNS, partial(_ranked, source, moment))
                                 for target, source, moment in _SOURCES]
_TABLES = [*_RANKED_TABLES, (CATEGORY_BUYERS, _BUYER_COLUMNS, _newest_per_category)]
_REFRESH = [(target, insert(target).from_select(columns, rows(ids_parameter())))
            for target, columns, rows in _TABLES]


def refresh(executor: Session | Connection, customer_ids: Iterable[int]) -> None:
    """Recompute these customers' ranked rows inside the caller's transaction (their rows
    already locked by the caller)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return
    if isinstance(executor, Session):
        executor.flush()
    for target, fill in _REFRESH:
        executor.execute(delete(target).where(target.c.customer_id.in_(ids)))
        executor.execute(fill, {IDS: ids})


def rebuild(executor: Session | Connection, *, ranked_only: bool = False) -> dict[str, int]:
    """Recompute every row (``ranked_only``: the ranked tables' alone, for the demo loader,
    which computes the newest order per category from its arrays); returns how many each
    table has."""
    counts = {}
    for target, columns, rows in _RANKED_TABLES if ranked_only else _TABLES:
        executor.execute(delete(target))
        executor.execute(insert(target).from_select(columns, rows()))
        counts[target.name] = executor.execute(
            select(func.count()).select_from(target)).scalar_one()
    return counts


def differences(connection: Connection) -> dict[str, int]:
    """Per table, how many rows differ from a fresh computation (0: current)."""
    found = {}
    for target, columns, rows in _TABLES:
        stored = set(connection.execute(select(*(target.c[name] for name in columns))))
        fresh = set(connection.execute(rows()))
        found[target.name] = len(stored ^ fresh)
    return found
