"""The KPI page's tiles: each figure formatted, with its change against the previous period
and the same days a year earlier. No Streamlit here, so the arithmetic is unit-tested."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from db.kpi.board import Dashboard
from db.kpi.customers import Customers
from db.kpi.engagement import Engagement
from db.kpi.sales import Sales


@dataclass(frozen=True)
class Tile:
    label: str
    value: str
    delta: str | None  # against the previous period, for st.metric
    year: str  # against a year earlier, as a caption
    help: str  # the definition, from the docstrings of db.kpi (sales, customers, ...)
    lower_is_better: bool = False


def money(cents: float | None) -> str:
    return "—" if cents is None else f"€{cents / 100:,.2f}"


def count(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


# A tile is about 160 px wide at 1,280 px (four to a row beside the menu), room for about
# nine characters at the value's size: "€9,999.99" or "9,999,999". Larger figures are
# shortened to three significant digits ("€2.83M") and the help gives them whole.
COMPACT_MONEY_FROM = 10_000  # euros
COMPACT_COUNT_FROM = 10_000_000
_UNITS = ((1e9, "B"), (1e6, "M"), (1e3, "k"))


def _three_digits(value: float) -> str:
    """``value`` (at least 1,000 in size) in the largest unit it reaches once rounded to
    three significant digits: 829,403 → "829k", 999,999 → "1.00M"."""
    for size, unit in _UNITS:
        scaled = abs(value) / size
        decimals = 2 if round(scaled, 2) < 10 else 1 if round(scaled, 1) < 100 else 0
        if round(scaled, decimals) >= 1:
            return f"{'-' if value < 0 else ''}{scaled:.{decimals}f}{unit}"
    raise ValueError(f"{value} is below a thousand")


def compact_money(cents: float | None) -> str:
    """Euros as a tile shows them: whole up to €9,999.99, else "€829k", "-€2.83M"."""
    if cents is None or abs(cents) < COMPACT_MONEY_FROM * 100:
        return money(cents)
    short = _three_digits(cents / 100)
    return short.replace("-", "-€") if short.startswith("-") else "€" + short


def compact_count(value: float | None) -> str:
    """A count as a tile shows it: whole up to 9,999,999, else "12.3M"."""
    if value is None or abs(value) < COMPACT_COUNT_FROM:
        return count(value)
    return _three_digits(value)


def share(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _nps(value: float | None) -> str:
    return "—" if value is None else f"{value:+.0f}"


def _help(definition: str, shown: str, whole: str) -> str:
    """The figure's definition, and the exact figure when the tile shows it shortened."""
    return definition if shown == whole else f"{definition}\n\nExactly: {whole}"


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
    show: Callable[[float | None], str]  # as the tile shows it, compact if large
    whole: Callable[[float | None], str]  # the exact figure, for the help when shortened
    change: str  # "relative", "pp" (percentage points) or "points"
    lower_is_better: bool = False


_FIGURES = (
    _Figure("Revenue", "Net of refunds: the sum of the period's order amounts.",
            lambda s, c, e: s.revenue_cents, compact_money, money, "relative"),
    _Figure("Orders", "Orders of zero or more; refunds are counted apart.",
            lambda s, c, e: s.orders, compact_count, count, "relative"),
    _Figure("Average order value", "Revenue ÷ orders.",
            lambda s, c, e: s.average_order_cents, compact_money, money, "relative"),
    _Figure("New customers", "Customers whose first order of all is in the period.",
            lambda s, c, e: s.new_customers, compact_count, count, "relative"),
    _Figure("Active customers", "Customers with an order in the period.",
            lambda s, c, e: c.active, compact_count, count, "relative"),
    _Figure("Returning share",
            "Of the active customers, those whose first order was before the period.",
            lambda s, c, e: c.returning_share, share, share, "pp"),
    _Figure("Repeat-purchase rate", "Of the active customers, those with two or more orders.",
            lambda s, c, e: c.repeat_rate, share, share, "pp"),
    _Figure("Churn rate", "Of the customers active in the previous period of equal length, "
            "those with no order in this one.",
            lambda s, c, e: c.churn_rate, share, share, "pp", lower_is_better=True),
    _Figure("Retention rate", "100 % minus the churn rate.",
            lambda s, c, e: c.retention_rate, share, share, "pp"),
    _Figure("NPS", "% promoters (9-10) minus % detractors (0-6) of the period's answers.",
            lambda s, c, e: e.nps, _nps, _nps, "points"),
    _Figure("Contacts", "Calls, e-mails, meetings, tickets and notes in the period.",
            lambda s, c, e: sum(e.interactions.values()), compact_count, count, "relative"),
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
        value_shown = figure.show(value)
        shown.append(Tile(figure.label, value_shown,
                          _change(figure.change, value, figure.value(*before)), year,
                          _help(figure.help, value_shown, figure.whole(value)),
                          figure.lower_is_better))
    lifetime = compact_money(board.lifetime_value_cents)
    shown.append(Tile("Average lifetime value", lifetime, None,
                      "As of today, whatever the period",
                      _help("Spend to date ÷ live customers with an order (channel and "
                            "category do not apply).", lifetime,
                            money(board.lifetime_value_cents))))
    return shown
