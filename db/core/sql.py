"""SQL building blocks that every feature shares and that behave the same on SQLite and
PostgreSQL: calendar days and months of UTC timestamps, ASCII-only lower-casing, amounts as
whole cents, "a text field with something in it", and calendar arithmetic the queries use.

They live here, not in the feature that first needed them, so that the KPI tables, the segment
compiler and the customer summary agree on one definition each.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Table,
    and_,
    bindparam,
    func,
    inspect,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction
from sqlalchemy.types import Date, String, TypeEngine
from sqlmodel import SQLModel


class _PerEngine(GenericFunction[Any]):
    """A one-argument SQL function spelled per engine: ``{}`` in ``postgresql`` and
    ``default`` (SQLite) stands for the compiled argument."""

    _register = False  # a base, not a function of its own
    postgresql: str
    default: str


def _per_engine(name: str, doc: str, type_: TypeEngine[Any], *, postgresql: str,
                default: str) -> type[_PerEngine]:
    """A :class:`_PerEngine` function called ``name`` in SQL, compiled from its templates."""
    function = type(name, (_PerEngine,), {
        "__doc__": doc, "name": name, "type": type_, "postgresql": postgresql,
        "default": default,
        "inherit_cache": True})  # the class is part of the cache key; templates are per class
    compiles(function, "postgresql")(_on_postgresql)
    compiles(function)(_elsewhere)
    return function


def _on_postgresql(element: _PerEngine, compiler: SQLCompiler, **kw: Any) -> str:
    return element.postgresql.format(compiler.process(element.clauses, **kw))


def _elsewhere(element: _PerEngine, compiler: SQLCompiler, **kw: Any) -> str:
    return element.default.format(compiler.process(element.clauses, **kw))


# timestamptz::date would take the session's time zone; SQLite keeps UTC timestamps as ISO
# text, whose first ten characters date() takes.
UtcDay = _per_engine("utc_day", "The UTC calendar day of a timestamp.", Date(),
                     postgresql="CAST(({} AT TIME ZONE 'UTC') AS DATE)", default="date({})")
UtcMonth = _per_engine("utc_month", "The first day of a timestamp's UTC calendar month.", Date(),
                       postgresql="CAST(date_trunc('month', {} AT TIME ZONE 'UTC') AS DATE)",
                       default="date({}, 'start of month')")
AsciiLower = _per_engine(
    "ascii_lower", "Lower-cases A-Z only, the same on every engine (SQLite's lower() does "
    "just that).", String(), default="lower({})",
    postgresql="translate({}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')")


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold_ascii(text: str) -> str:
    """Python's twin of :class:`AsciiLower`."""
    return text.translate(_ASCII_LOWER)


def cents(amount: ColumnElement) -> ColumnElement[int]:
    """An amount column as whole cents, exact on both engines (SQLite keeps NUMERIC as REAL)."""
    return sql_cast(func.round(amount * 100), BigInteger)


def filled(column: ColumnElement) -> ColumnElement[bool]:
    """A text field with something in it: neither NULL nor empty (segments' "is known")."""
    return and_(column.is_not(None), column != "")


def years_before(day: date, years: int) -> date:
    """The same month and day ``years`` earlier (29 February becomes the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a table model, typed (SQLModel declares ``__table__`` untyped)."""
    return cast(Table, inspect(model).local_table)


# The bind parameter a statement "for some customers" is built around, so that it is built
# once (see :func:`ids_parameter`) and executed with ``{IDS: [...]}``.
IDS = "customer_ids"


def ids_parameter() -> BindParameter[Any]:
    """A list of customer ids as one parameter (``IN`` expanded at execution).

    A write keeps the derived tables current by running a dozen queries for the customers
    it touched; building those statements anew on every write cost more CPU than running
    them. Built once around this parameter, each is compiled once and then only executed.
    """
    return bindparam(IDS, expanding=True)
