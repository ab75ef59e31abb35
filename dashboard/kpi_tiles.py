"""The KPI page's tiles: each figure formatted, with its change against the previous period
and the same days a year earlier. No Streamlit here, so the arithmetic is unit-tested."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from db.metrics import Customers, Dashboard, Engagement, Sales


@dataclass(frozen=True)
class Tile:
    label: str
    value: str
    delta: str | None  # against the previous period, for st.metric
    year: str  # against a year earlier, as a caption
    help: str  # the definition, from db.metrics
    lower_is_better: bool = False


def money(cents: float | None) -> str:
    return "—" if cents is None else f"€{cents / 100:,.2f}"


def count(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def share(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _relative(now: float | None, before: float | None) -> str | None:
    if now is None or before is None:
        return None
    if before == 0:
        return None if now == 0 else "new"
    return f"{(now - before) / abs(before):+.1%}"


def _points(now: float | None, before: float | None, unit: str) -> str | None:
    if now is None or before is None:
        return None
    return f"{(now - before) * (100 if unit == 'pp' else 1):+.1f} {unit}"


@dataclass(frozen=True)
class _Figure:
    label: str
    help: str
    value: Callable[[Sales, Customers, Engagement], float | None]
    show: Callable[[float | None], str]
    change: str  # "relative", "pp" (percentage points) or "points"
    lower_is_better: bool = False


_FIGURES = (
    _Figure("Revenue", "Net of refunds: the sum of the period's order amounts.",
            lambda s, c, e: s.revenue_cents, money, "relative"),
    _Figure("Orders", "Orders of zero or more; refunds are counted apart.",
            lambda s, c, e: s.orders, count, "relative"),
    _Figure("Average order value", "Revenue ÷ orders.",
            lambda s, c, e: s.average_order_cents, money, "relative"),
    _Figure("New customers", "Customers whose first order of all is in the period.",
            lambda s, c, e: s.new_customers, count, "relative"),
    _Figure("Active customers", "Customers with an order in the period.",
            lambda s, c, e: c.active, count, "relative"),
    _Figure("Returning share",
            "Of the active customers, those whose first order was before the period.",
            lambda s, c, e: c.returning_share, share, "pp"),
    _Figure("Repeat-purchase rate", "Of the active customers, those with two or more orders.",
            lambda s, c, e: c.repeat_rate, share, "pp"),
    _Figure("Churn rate", "Of the customers active in the previous period of equal length, "
            "those with no order in this one.",
            lambda s, c, e: c.churn_rate, share, "pp", lower_is_better=True),
    _Figure("Retention rate", "100 % minus the churn rate.",
            lambda s, c, e: c.retention_rate, share, "pp"),
    _Figure("NPS", "% promoters (9-10) minus % detractors (0-6) of the period's answers.",
            lambda s, c, e: e.nps, lambda v: "—" if v is None else f"{v:+.0f}", "points"),
    _Figure("Contacts", "Calls, e-mails, meetings, tickets and notes in the period.",
            lambda s, c, e: sum(e.interactions.values()), count, "relative"),
)


def _change(kind: str, now: float | None, before: float | None) -> str | None:
    if kind == "relative":
        return _relative(now, before)
    return _points(now, before, kind)


def tiles(board: Dashboard) -> list[Tile]:
    """Every tile of the page, in display order."""
    now = (board.sales, board.customers.counts, board.engagement)
    before = (board.sales_previous, board.customers.previous, board.engagement_previous)
    earlier = (board.sales_year_earlier, board.customers.year_earlier,
               board.engagement_year_earlier)
    shown = []
    for figure in _FIGURES:
        value = figure.value(*now)
        if board.has_year_earlier:
            change = _change(figure.change, value, figure.value(*earlier))
            year = f"A year earlier: {change or 'nothing to compare'}"
        else:
            year = "No data a year earlier"
        shown.append(Tile(figure.label, figure.show(value),
                          _change(figure.change, value, figure.value(*before)), year,
                          figure.help, figure.lower_is_better))
    shown.append(Tile("Average lifetime value", money(board.lifetime_value_cents), None,
                      "As of today, whatever the period",
                      "Spend to date ÷ live customers with an order (channel and category "
                      "do not apply)."))
    return shown
