"""The one definition of a live customer: neither soft-deleted nor erased.

Lookup, segments, the KPI tables, the summary and the home page's counts all leave out the
customers an admin deleted or whose data was erased; they ask here rather than each testing
the two columns, so that the next state a customer can be in changes one place.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_

from db.core.sql import table_of
from db.derived.models import CustomerSummary
from db.models import Customer

_C = table_of(Customer).c
_S = table_of(CustomerSummary).c


def live() -> ColumnElement[bool]:
    """Over ``customer``: the customers lookup, segments and KPIs hold."""
    return and_(_C.deleted_at.is_(None), _C.erased_at.is_(None))


def listed() -> ColumnElement[bool]:
    """:func:`live` read from the summary's copy, for queries over ``customer_summary``."""
    return _S.live.is_(True)


def is_live(customer: Customer | None) -> bool:
    """Python's twin of :func:`live` for a loaded record (``None``: no such customer)."""
    return customer is not None and customer.deleted_at is None and customer.erased_at is None
