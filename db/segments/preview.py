"""What the builder shows beside a definition: how many match, what share, how many may be
emailed, a sample, and breakdowns by country, age and spend against all customers; and the
values its pick lists offer.

Every call checks the role (``Capability.SEGMENTS``) and evaluates through
:mod:`db.segments.membership`, so the preview counts the customers a saved segment will hold.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

import pandas as pd
from sqlalchemy import ColumnElement, Connection, Engine, and_, case, func, literal, select

from db import exports
from db.core.access import Actor, Capability, require
from db.core.background import Computed
from db.core.engine import get_engine
from db.core.sql import table_of, years_before
from db.core.types import utcnow
from db.derived import vocabulary
from db.derived.models import customer_rows, listed
from db.derived.vocabulary import CATEGORY
from db.models import Tag
from db.segments.definition import Group
from db.segments.membership import condition, count_where
from db.segments.rows import C, S, rows_for

SAMPLE_SIZE = 20
AGE_BANDS = ((0, 17, "under 18"), (18, 24, "18-24"), (25, 34, "25-34"), (35, 44, "35-44"),
             (45, 54, "45-54"), (55, 64, "55-64"), (65, 200, "65+"))
SPEND_BANDS_CENTS = ((None, 0, "no spend"), (1, 9_999, "under 100"),
                     (10_000, 49_999, "100-499"), (50_000, 99_999, "500-999"),
                     (100_000, None, "1,000+"))


@dataclass(frozen=True)
class Preview:
    """What the builder shows beside a definition."""

    count: int
    total: int
    # members with an email address who granted email-marketing consent and are neither
    # marked "do not contact" nor restricted
    emailable: int
    sample: pd.DataFrame  # id, name, country, city, email consent
    by_country: pd.DataFrame  # group, members, everyone
    by_age: pd.DataFrame
    by_spend: pd.DataFrame

    @property
    def share(self) -> float:
        return self.count / self.total if self.total else 0.0


def count(actor: Actor, definition: Group, *, as_of: datetime | None = None,
          engine: Engine | None = None) -> int:
    """How many live customers ``definition`` matches now."""
    require(actor, Capability.SEGMENTS)
    with (engine or get_engine()).connect() as connection:
        return count_where(connection, condition(connection, definition, as_of or utcnow()))


def population(actor: Actor, *, as_of: datetime | None = None, version: Hashable = None,
               engine: Engine | None = None) -> pd.DataFrame:
    """All live customers counted by country, age band, spend band and email consent.

    The same for every definition, so the builder computes it once and passes it to
    :func:`preview` (it scans every customer: 1.6–5 s at a million). Given ``version`` (a
    value that changes with every write of data, :func:`db.kpi.board.data_version`) and no
    ``as_of``, it is computed once per version and day (age bands move with the date) in
    this process and shared by every session, see :func:`warm_population`.
    """
    require(actor, Capability.SEGMENTS)
    engine = engine or get_engine()
    now = as_of or utcnow()
    if version is None or as_of is not None:
        return _population(engine, now)
    key = (str(engine.url), version, now.astimezone(UTC).date())
    # A second caller waits for the first one's count (or the background one), not a recount.
    return _EVERYONE.value(key, partial(_population, engine, now)).copy()


def warm_population(actor: Actor, version: Hashable, *, engine: Engine | None = None) -> None:
    """Start counting :func:`population` for ``version`` in the background unless it is
    counted or being counted, so the builder's first preview after a restart or a write
    waits only for its members' side."""
    require(actor, Capability.SEGMENTS)
    engine = engine or get_engine()
    now = utcnow()
    key = (str(engine.url), version, now.astimezone(UTC).date())
    _EVERYONE.start(key, partial(_population, engine, now))


def forget_populations() -> None:
    """Wait for the background counts, then drop every counted population: a database
    emptied or restored can reach a data version seen before (tests, a restore)."""
    _EVERYONE.forget()


# population() per (database, data version, UTC day), the newest few; at the lowest CPU
# priority, as home starts it at sign-in (see db.core.background).
_EVERYONE: Computed[pd.DataFrame] = Computed("population", nice=19)


def _population(engine: Engine, now: datetime) -> pd.DataFrame:
    with engine.connect() as connection:
        return _cube(connection, listed(), now)


def preview(actor: Actor, definition: Group, *, as_of: datetime | None = None,
            everyone: pd.DataFrame | None = None, engine: Engine | None = None) -> Preview:
    """Count, share, emailable members, a sample and breakdowns against all customers.

    The definition is evaluated once (grouped into a small cube) plus once for the sample
    of 20; ``everyone`` is :func:`population`, computed here when not given.
    """
    require(actor, Capability.SEGMENTS)
    now = as_of or utcnow()
    with (engine or get_engine()).connect() as connection:
        where = condition(connection, definition, now)
        members = _cube(connection, where, now)
        if everyone is None:
            everyone = _cube(connection, listed(), now)
        sample = pd.DataFrame(connection.execute(
            select(C.id, (C.first_name + literal(" ") + C.last_name).label("name"),
                   C.country, C.city, _emailable().label("emailable"))
            .select_from(customer_rows()).where(where).order_by(S.customer_id)
            .limit(SAMPLE_SIZE)
        ).all(), columns=["id", "name", "country", "city", "emailable"])
    return Preview(
        count=int(members["customers"].sum()), total=int(everyone["customers"].sum()),
        emailable=int(members.loc[members["emailable"], "customers"].sum()), sample=sample,
        by_country=_breakdown(members, everyone, "country"),
        by_age=_breakdown(members, everyone, "age",
                          [label for _, _, label in AGE_BANDS] + ["unknown"]),
        by_spend=_breakdown(members, everyone, "spend",
                            [label for _, _, label in SPEND_BANDS_CENTS]),
    )


def field_options(actor: Actor, *, engine: Engine | None = None) -> dict[str, list[str]]:
    """The values in the data for the builder's pick lists: countries, categories, tags."""
    require(actor, Capability.SEGMENTS)
    with (engine or get_engine()).connect() as connection:
        def distinct(column: ColumnElement[str]) -> list[str]:
            return [value for value in connection.execute(
                select(column).distinct().order_by(column)).scalars() if value]
        # Categories from the small table the write path keeps: a DISTINCT over every
        # order took 9 s at 10 million orders.
        return {"country": _ascending_values(connection, C.country),
                "category": [value for value in vocabulary.values(connection, CATEGORY)
                             if value],
                "tags": distinct(table_of(Tag).c.name)}


def _ascending_values(connection: Connection, column: ColumnElement[str]) -> list[str]:
    """The distinct values of an indexed column, smallest first, by one index seek per
    value (each the smallest above the one before) instead of reading every row's entry:
    a handful of countries among a million customers, under a millisecond instead of 150."""
    walk = select(func.min(column).label("value")).cte("walk", recursive=True)
    walk = walk.union_all(select(select(func.min(column)).where(column > walk.c.value)
                                 .scalar_subquery()).where(walk.c.value.is_not(None)))
    return [value for value in connection.execute(
        select(walk.c.value).where(walk.c.value.is_not(None)).order_by(walk.c.value)
    ).scalars() if value]


def _emailable() -> ColumnElement[bool]:
    """Can be sent marketing email: consent granted, an address on file, and neither an
    objection nor a restriction (which keep them out of every export too)."""
    return and_(S.consent_email_marketing.is_(True), S.has_email.is_(True),
                exports.contactable())


def _cube(connection: Connection, where: ColumnElement[bool], now: datetime) -> pd.DataFrame:
    """Customers matching ``where``, counted per country × age band × spend band × consent:
    at most a few thousand rows, from which every figure of the preview is summed."""
    groups = [S.country.label("country"), _age_band(now).label("age"),
              _spend_band().label("spend"),
              _emailable().label("emailable")]
    rows = connection.execute(select(*groups, func.count()).select_from(rows_for(where))
                              .where(where).group_by(*groups)).all()
    frame = pd.DataFrame(rows, columns=["country", "age", "spend", "emailable", "customers"])
    frame["country"] = frame["country"].fillna("unknown")
    frame["emailable"] = frame["emailable"].fillna(False).astype(bool)
    return frame


def _breakdown(members: pd.DataFrame, everyone: pd.DataFrame, column: str,
               order: list[str] | None = None) -> pd.DataFrame:
    """group, members, everyone: the two cubes summed over one dimension, in ``order``
    (bands) or largest first (countries)."""
    counted = pd.concat([members.groupby(column)["customers"].sum().rename("members"),
                         everyone.groupby(column)["customers"].sum().rename("everyone")],
                        axis=1).fillna(0).astype(int)
    frame = counted.rename_axis("group").reset_index()
    if order is None:
        return frame.sort_values("everyone", ascending=False, ignore_index=True)
    rank = {label: index for index, label in enumerate(order)}
    return frame.sort_values("group", key=lambda groups: groups.map(rank),
                             ignore_index=True)


def _age_band(now: datetime) -> ColumnElement[str]:
    today = now.astimezone(UTC).date()
    whens = [(and_(S.birth_date <= years_before(today, low),
                   S.birth_date > years_before(today, high + 1)), label)
             for low, high, label in AGE_BANDS]
    return case(*whens, else_=literal("unknown"))


def _spend_band() -> ColumnElement[str]:
    spend = func.coalesce(S.spend_cents, 0)
    whens = []
    for low, high, label in SPEND_BANDS_CENTS:
        if low is None:
            whens.append((spend <= high, label))
        elif high is None:
            whens.append((spend >= low, label))
        else:
            whens.append((spend.between(low, high), label))
    return case(*whens, else_=literal("unknown"))
