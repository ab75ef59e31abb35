"""What a segment is evaluated over: one ``customer_summary`` row per customer, joined to
the customer only when a condition reads a customer column (city, postcode, occupation).

The tables are named here once, typed, for the compiler, its time windows and the services.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, FromClause
from sqlalchemy.sql.util import find_tables

from db.core.sql import table_of
from db.derived.models import CustomerSummary, customer_rows
from db.models import Customer, Interaction, Order
from db.predict.models import CustomerPrediction

CUSTOMERS = table_of(Customer)
SUMMARY = table_of(CustomerSummary)
ORDERS = table_of(Order)
INTERACTIONS = table_of(Interaction)
PREDICTIONS = table_of(CustomerPrediction)  # the newest fit's scores, one row per customer
C = CUSTOMERS.c
S = SUMMARY.c
# The customer a correlated subquery probes.
KEY = S.customer_id


def rows_for(where: ColumnElement[bool]) -> FromClause:
    """What a segment condition is evaluated over: the summary alone, or joined to the
    customer when the condition reads a customer column (a free-text field)."""
    if CUSTOMERS in find_tables(where, check_columns=True):
        return customer_rows()
    return SUMMARY


def reads_only_rows(test: ColumnElement[bool]) -> bool:
    """Whether ``test`` reads the customer's own row only (summary, customer), no other
    table (orders, contacts, tags)."""
    return set(find_tables(test, check_columns=True)) <= {SUMMARY, CUSTOMERS}
