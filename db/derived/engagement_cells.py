"""``daily_interactions`` and ``daily_nps``: contacts and survey answers counted per UTC day
and customer country, for the KPI page's NPS and contact figures.

Counting a year of contacts for a million customers straight from the table takes seconds;
the daily counts are a few thousand rows. Each is a
:class:`~db.derived.summed_cells.SummedCells`: :func:`interaction_cells` and :func:`nps_cells` are
what some customers contribute, kept by :func:`db.derived.kpi_tables.kept_current` and rebuilt by
``python -m db.derived rebuild``.
"""

from __future__ import annotations

from sqlalchemy import Integer, Select, cast, func, select
from sqlmodel import col

from db.core.sql import UtcDay, table_of
from db.derived.models import DailyInteractions, DailyNps
from db.derived.summed_cells import Customers, SummedCells, count_if
from db.models import NPS_BANDS, Customer, Feedback, Interaction

INTERACTIONS = table_of(DailyInteractions)
NPS = table_of(DailyNps)
NPS_GROUPS = tuple(band + "s" for band in NPS_BANDS)  # promoters, passives, detractors


def interaction_cells(customer_ids: Customers = None) -> Select:
    """(day, country, kind, interactions) of some or all customers' contacts."""
    day = UtcDay(col(Interaction.at))
    country, kind = col(Customer.country), col(Interaction.kind)
    query = (select(day.label("day"), country, kind,
                    cast(func.count(), Integer).label("interactions"))
             .join(Customer, col(Customer.id) == col(Interaction.customer_id))
             .group_by(day, country, kind))
    if customer_ids is not None:
        query = query.where(col(Interaction.customer_id).in_(customer_ids))
    return query


def nps_cells(customer_ids: Customers = None) -> Select:
    """(day, country, promoters, passives, detractors) of some or all customers' answers."""
    day = UtcDay(col(Feedback.at))
    score, country = col(Feedback.nps_score), col(Customer.country)
    query = (select(day.label("day"), country,
                    *(cast(count_if(score.between(*NPS_BANDS[band])), Integer).label(group)
                      for band, group in zip(NPS_BANDS, NPS_GROUPS, strict=True)))
             .join(Customer, col(Customer.id) == col(Feedback.customer_id))
             .group_by(day, country))
    if customer_ids is not None:
        query = query.where(col(Feedback.customer_id).in_(customer_ids))
    return query


INTERACTION_CELLS = SummedCells(table=INTERACTIONS, key=("day", "country", "kind"),
                                measures=("interactions",), present=("interactions",),
                                rows=interaction_cells)
NPS_CELLS = SummedCells(table=NPS, key=("day", "country"), measures=NPS_GROUPS,
                        present=NPS_GROUPS, rows=nps_cells)
