"""What a lookup is narrowed to besides its text, as conditions on the customer table."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import Select
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression
from sqlalchemy.sql.operators import custom_op
from sqlalchemy.sql.visitors import ExternallyTraversible
from sqlmodel import col, select

from db.models import Customer, CustomerTag, Tag, live


@dataclass(frozen=True)
class SearchFilters:
    """What a search is narrowed to besides its text; None lets any value through."""

    country: str | None = None
    status: str | None = None
    tag: str | None = None


NO_FILTERS = SearchFilters()

# Any select over the customer table: of whole records, of chosen columns, or of ids.
_Query = TypeVar("_Query", bound=Select[Any])


def filtered(query: _Query, filters: SearchFilters, *, few_on: str | None = None) -> _Query:
    """``query`` narrowed to live customers passing ``filters``.

    ``few_on`` names the dialect when ``query`` already picks few customers (an id list, or
    the search index). SQLite has no statistics here (nothing runs ANALYZE), so it would
    walk every customer of the country through the (country, status) index and test each
    against the list or the index — seconds on a large table — and reads each listed id
    through the index of ``merged_into_id`` (all NULL) before the record itself, twice the
    work; a unary plus on those columns keeps their tests off any index.
    """
    off_index = _off_index if few_on == "sqlite" else _as_is
    query = query.where(off_index(live()))
    if filters.country:
        query = query.where(off_index(col(Customer.country) == filters.country))
    if filters.status:
        query = query.where(col(Customer.status) == filters.status)
    if filters.tag and few_on == "sqlite":
        # Each customer's tags probed through their key: as a list, SQLite gathered every
        # customer with the tag (75,000 for "fashion" at a million) for each statement.
        query = query.where(sa.exists().where(
            col(CustomerTag.customer_id) == col(Customer.id),
            col(CustomerTag.tag_id) == select(col(Tag.id))
            .where(col(Tag.name) == filters.tag).scalar_subquery()))
    elif filters.tag:
        query = query.where(col(Customer.id).in_(
            select(col(CustomerTag.customer_id)).join(Tag).where(col(Tag.name) == filters.tag)))
    return query


def _off_index(clause: ColumnElement[bool]) -> ColumnElement[bool]:
    """``clause`` with each column behind a unary plus, which SQLite reads as "test this on
    the record, not through an index"."""
    def plus(element: ExternallyTraversible, **_: Any) -> ExternallyTraversible | None:
        if isinstance(element, sa.Column):
            return UnaryExpression(element, operator=custom_op("+"), type_=element.type)
        return None
    no_options: dict[str, Any] = {}
    return visitors.replacement_traverse(clause, no_options, plus)


def _as_is(clause: ColumnElement[bool]) -> ColumnElement[bool]:
    return clause



def among(dialect: str) -> ColumnElement[bool]:
    """``customer.id`` is one of the ids bound as ``ids``, one value (:func:`id_list`): an
    IN list renders a placeholder per id, which for the thousand candidates of a common
    search cost as much as SQLite's reading of their records."""
    if dialect == "sqlite":
        listed = sa.func.json_each(sa.bindparam("ids", type_=sa.String())).table_valued("value")
        return col(Customer.id).in_(select(listed.c.value))
    return col(Customer.id) == sa.any_(sa.bindparam("ids", type_=sa.ARRAY(sa.Integer())))


def id_list(ids: list[int], dialect: str) -> object:
    """``ids`` as :func:`among` binds them: a JSON array on SQLite, an array on PostgreSQL."""
    return json.dumps(ids) if dialect == "sqlite" else list(ids)
