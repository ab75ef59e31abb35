"""The KPI page's survey and contact figures, from ``daily_nps`` and ``daily_interactions``.

Definitions (country and segment apply; contacts and answers have no channel or category):

- **NPS**: of the period's survey answers, the share of promoters (9–10) minus the share of
  detractors (0–6), in points from −100 to 100; none without answers.
- **Interactions by kind**: the period's contacts counted per kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Engine, func, select

from db.core.access import Actor, Capability, require
from db.derived.engagement_cells import INTERACTION_CELLS, NPS_CELLS, NPS_GROUPS
from db.kpi import scope as kpi_scope
from db.kpi.filters import NO_FILTERS, Filters, cells, narrowed
from db.kpi.periods import Period


@dataclass(frozen=True)
class Engagement:
    """A period's survey answers and contacts."""

    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    interactions: dict[str, int] = field(default_factory=dict)

    @property
    def answers(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def nps(self) -> float | None:
        if not self.answers:
            return None
        return 100 * (self.promoters - self.detractors) / self.answers


def engagement(actor: Actor, period: Period, filters: Filters = NO_FILTERS, *,
               engine: Engine | None = None) -> Engagement:
    """NPS answers by group and contacts by kind in ``period``."""
    require(actor, Capability.VIEW_KPIS)
    with kpi_scope.connect(engine) as connection:
        answers = cells(connection, NPS_CELLS, filters, period)
        in_period = answers.c.day.between(period.first, period.last)
        promoters, passives, detractors = connection.execute(
            select(*(func.coalesce(func.sum(answers.c[name]), 0) for name in NPS_GROUPS))
            .where(in_period, *narrowed(answers, filters))).one()
        contacts = cells(connection, INTERACTION_CELLS, filters, period)
        kinds = connection.execute(
            select(contacts.c.kind, func.sum(contacts.c.interactions))
            .where(contacts.c.day.between(period.first, period.last),
                   *narrowed(contacts, filters))
            .group_by(contacts.c.kind)).all()
    return Engagement(int(promoters), int(passives), int(detractors),
                      interactions={kind: int(count) for kind, count in kinds})


def nps_daily(actor: Actor, period: Period, filters: Filters = NO_FILTERS, *,
              engine: Engine | None = None) -> pd.DataFrame:
    """Survey answers per day of ``period`` that has any, by group (promoters, passives,
    detractors); :func:`db.kpi.periods.bucketed` sums them and :func:`nps_of` scores each
    bucket."""
    require(actor, Capability.VIEW_KPIS)
    with kpi_scope.connect(engine) as connection:
        answers = cells(connection, NPS_CELLS, filters, period)
        query = (select(answers.c.day, *(func.sum(answers.c[name]) for name in NPS_GROUPS))
                 .where(answers.c.day.between(period.first, period.last),
                        *narrowed(answers, filters))
                 .group_by(answers.c.day).order_by(answers.c.day))
        frame = pd.DataFrame(connection.execute(query).all(), columns=["day", *NPS_GROUPS])
    return frame.astype(dict.fromkeys(NPS_GROUPS, "int64"))


def nps_of(answers: pd.DataFrame) -> pd.Series:
    """NPS per row of promoter, passive and detractor counts (NaN where no answers)."""
    total = answers["promoters"] + answers["passives"] + answers["detractors"]
    return (100 * (answers["promoters"] - answers["detractors"]) / total.where(total > 0))
