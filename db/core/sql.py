"""SQL building blocks that every feature shares and that behave the same on SQLite and
PostgreSQL: calendar days and months of UTC timestamps, ASCII-only lower-casing, amounts as
whole cents, "a text field with something in it", and calendar arithmetic the queries use.

They live here, not in the feature that first needed them, so that the KPI tables, the segment
compiler and the customer summary agree on one definition each.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from sqlalchemy import BigInteger, ColumnElement, Table, and_, func, inspect
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction
from sqlalchemy.types import Date, String
from sqlmodel import SQLModel


class UtcDay(GenericFunction):
    """The UTC calendar day of a timestamp (``func.utc_day``)."""

    name = "utc_day"
    type = Date()
    inherit_cache = True


@compiles(UtcDay, "postgresql")
def _utc_day_postgresql(element: UtcDay, compiler: SQLCompiler, **kw: Any) -> str:
    # timestamptz::date would take the session's time zone.
    return "CAST((" + _argument(element, compiler, kw) + " AT TIME ZONE 'UTC') AS DATE)"


@compiles(UtcDay)
def _utc_day_default(element: UtcDay, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps UTC timestamps as ISO text; date() takes their first ten characters.
    return "date(" + _argument(element, compiler, kw) + ")"


class UtcMonth(GenericFunction):
    """The first day of a timestamp's UTC calendar month (``func.utc_month``)."""

    name = "utc_month"
    type = Date()
    inherit_cache = True


@compiles(UtcMonth, "postgresql")
def _utc_month_postgresql(element: UtcMonth, compiler: SQLCompiler, **kw: Any) -> str:
    argument = _argument(element, compiler, kw)
    return "CAST(date_trunc('month', " + argument + " AT TIME ZONE 'UTC') AS DATE)"


@compiles(UtcMonth)
def _utc_month_default(element: UtcMonth, compiler: SQLCompiler, **kw: Any) -> str:
    return "date(" + _argument(element, compiler, kw) + ", 'start of month')"


class AsciiLower(GenericFunction):
    """Lower-cases A-Z only, the same on every engine (SQLite's lower() does just that)."""

    name = "ascii_lower"
    type = String()
    inherit_cache = True


@compiles(AsciiLower, "postgresql")
def _ascii_lower_postgresql(element: AsciiLower, compiler: SQLCompiler, **kw: Any) -> str:
    return ("translate(" + _argument(element, compiler, kw) + ", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', "
            "'abcdefghijklmnopqrstuvwxyz')")


@compiles(AsciiLower)
def _ascii_lower_default(element: AsciiLower, compiler: SQLCompiler, **kw: Any) -> str:
    return "lower(" + _argument(element, compiler, kw) + ")"


def _argument(element: GenericFunction[Any], compiler: SQLCompiler, kw: dict[str, Any]) -> str:
    """The compiled argument list of one of the functions above."""
    return compiler.process(element.clauses, **kw)


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
