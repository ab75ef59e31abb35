"""``daily_interactions`` and ``daily_nps``: contacts and survey answers counted per UTC day
and customer country, for the KPI page's NPS and contact figures.

Counting a year of contacts for a million customers straight from the table took 6 s on
SQLite; the daily counts are a few thousand rows. Each is a
:class:`~db.kpi.summed_cells.SummedCells`: :func:`interaction_cells` and :func:`nps_cells` are
what some customers contribute, kept by :func:`db.kpi.tables.kept_current` and rebuilt by
``python -m db.derived rebuild``.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Integer, Select, case, cast, func, select

from db.core.sql import UtcDay
from db.kpi.models import DailyInteractions, DailyNps
from db.kpi.summed_cells import Customers, SummedCells
from db.models import NPS_BANDS, Customer, Feedback, Interaction

INTERACTIONS = DailyInteractions.__table__  # type: ignore[attr-defined]
NPS = DailyNps.__table__  # type: ignore[attr-defined]
NPS_GROUPS = tuple(band + "s" for band in NPS_BANDS)  # promoters, passives, detractors


def interaction_cells(customer_ids: Customers = None) -> Select:
    """(day, country, kind, interactions) of some or all customers' contacts."""
    day = UtcDay(Interaction.at)
    query = (select(day.label("day"), Customer.country, Interaction.kind,
                    cast(func.count(), Integer).label("interactions"))
             .join(Customer, Customer.id == Interaction.customer_id)
             .group_by(day, Customer.country, Interaction.kind))
    if customer_ids is not None:
        query = query.where(Interaction.customer_id.in_(customer_ids))
    return query


def _count_if(test: ColumnElement[bool]) -> ColumnElement[int]:
    return cast(func.sum(case((test, 1), else_=0)), Integer)


def nps_cells(customer_ids: Customers = None) -> Select:
    """(day, country, promoters, passives, detractors) of some or all customers' answers."""
    day = UtcDay(Feedback.at)
    score = Feedback.nps_score
    query = (select(day.label("day"), Customer.country,
                    *(_count_if(score.between(*NPS_BANDS[band])).label(group)
                      for band, group in zip(NPS_BANDS, NPS_GROUPS, strict=True)))
             .join(Customer, Customer.id == Feedback.customer_id)
             .group_by(day, Customer.country))
    if customer_ids is not None:
        query = query.where(Feedback.customer_id.in_(customer_ids))
    return query


INTERACTION_CELLS = SummedCells(table=INTERACTIONS, key=("day", "country", "kind"),
                                measures=("interactions",), present=("interactions",),
                                rows=interaction_cells)
NPS_CELLS = SummedCells(table=NPS, key=("day", "country"), measures=NPS_GROUPS,
                        present=NPS_GROUPS, rows=nps_cells)
