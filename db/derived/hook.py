"""The one hook every write service calls to keep the derived tables current.

A change to a customer — a field, an order, a contact, consent, a delete or restore — moves
three kinds of derived rows: the customer's ``customer_summary`` row, the customer's share of
the KPI tables, and the customer's search-index text. The order matters: the KPI tables read
the summary (recency, liveness), so the summary is refreshed before the KPI tables take their
"after" reading, and the customers' rows are locked before the "before" reading so that two
writes for one customer move its share one after the other. Services wrap their write in
:func:`customers_changed` instead of chaining the three refreshes by hand, so the next service
cannot get the order wrong or forget one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlmodel import Session, col, select

from db.derived import kpi_tables, search_index, summary
from db.models import Customer


@contextmanager
def customers_changed(session: Session, customer_ids: Iterable[int]) -> Iterator[None]:
    """Wrap a write that changes these customers (their ids must exist when it is entered;
    a new customer is flushed first). When the block ends, inside the caller's transaction:
    the block's writes are flushed, the summary rows refreshed, the KPI tables moved from
    the customers' old share to their new one, and their search-index text rewritten."""
    ids = sorted(set(customer_ids))
    with kpi_tables.kept_current(session, ids):
        yield
        session.flush()
        summary.refresh(session, ids)
    if ids:
        search_index.index_customers(session, session.execute(
            select(*search_index.INDEXED_COLUMNS).where(col(Customer.id).in_(ids))).all())
