"""``daily_interactions`` and ``daily_nps``: contacts and survey answers counted per UTC day
and customer country, for the KPI page's NPS and contact figures.

Counting a year of contacts for a million customers straight from the table takes seconds;
the daily counts are a few thousand rows. Each is a
:class:`~db.derived.summed_cells.SummedCells`: :func:`interaction_cells` and :func:`nps_cells` are
what some customers contribute, kept by :func:`db.derived.kpi_tables.kept_current` and rebuilt by
``python -m db.derived rebuild``.
"""

from __future__ import annotations

from sqlalchemy import FromClause, Integer, Select, cast, func, select
from sqlmodel import col

from db.core.sql import UtcDay, table_of
from db.derived.models import DailyInteractions, DailyNps
from db.derived.summed_cells import Customers, SummedCells, count_if, owners
from db.models import NPS_BANDS, Feedback, Interaction

INTERACTIONS = table_of(DailyInteractions)
NPS = table_of(DailyNps)
NPS_GROUPS = tuple(band + "s" for band in NPS_BANDS)  # promoters, passives, detractors
_CONTACT = table_of(Interaction).c
_ANSWER = table_of(Feedback).c


def interaction_cells(customer_ids: Customers | FromClause = None) -> Select:
    """(day, country, kind, interactions) of some, all or chosen people's contacts (see
    :func:`~db.derived.summed_cells.owners`)."""
    day = UtcDay(col(Interaction.at))
    owner, kind = owners(_CONTACT.customer_id, customer_ids), col(Interaction.kind)
    return (select(day.label("day"), owner.country, kind,
                   cast(func.count(), Integer).label("interactions"))
            .join_from(table_of(Interaction), owner.table, owner.on).where(*owner.where)
            .group_by(day, owner.country, kind))


def nps_cells(customer_ids: Customers | FromClause = None) -> Select:
    """(day, country, promoters, passives, detractors) of some, all or chosen people's
    answers."""
    day = UtcDay(col(Feedback.at))
    owner, score = owners(_ANSWER.customer_id, customer_ids), col(Feedback.nps_score)
    return (select(day.label("day"), owner.country,
                   *(cast(count_if(score.between(*NPS_BANDS[band])), Integer).label(group)
                     for band, group in zip(NPS_BANDS, NPS_GROUPS, strict=True)))
            .join_from(table_of(Feedback), owner.table, owner.on).where(*owner.where)
            .group_by(day, owner.country))


INTERACTION_CELLS = SummedCells(table=INTERACTIONS, key=("day", "country", "kind"),
                                measures=("interactions",), present=("interactions",),
                                rows=interaction_cells)
NPS_CELLS = SummedCells(table=NPS, key=("day", "country"), measures=NPS_GROUPS,
                        present=NPS_GROUPS, rows=nps_cells)
