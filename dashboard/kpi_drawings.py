"""The KPI page's charts and downloads, ready to draw and to cache: each chart's Vega-Lite
spec (:func:`dashboard.charts.vega_spec`) and its rows as CSV. No Streamlit here; the page
caches :func:`drawings` with its figures, so a rerun draws them without building, checking
or writing any of them again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import altair as alt
import pandas as pd

from dashboard.charts import (
    build_cohort_heatmap,
    build_country_chart,
    build_new_returning_chart,
    build_nps_chart,
    build_revenue_bars,
    build_rfm_grid,
    build_trend_chart,
    vega_spec,
)
from db.kpi import board as kpi_board
from db.kpi.periods import Period


@dataclass(frozen=True)
class Drawn:
    """A chart or table as the page draws it: its Vega-Lite spec (None: nothing to draw)
    and its rows as a CSV download (see kpi_board.csv_download)."""

    spec: dict[str, Any] | None
    download: kpi_board.Download | None


def _drawn(chart: alt.Chart | alt.LayerChart | None, data: pd.DataFrame, what: str,
           days: Period) -> Drawn:
    if chart is None or data.empty:
        return Drawn(None, None)
    return Drawn(vega_spec(chart), kpi_board.csv_download(data, what, days))


def _previous(trend: pd.DataFrame) -> pd.DataFrame:
    """The previous period's columns of the trend, under the current ones' names, on the
    same buckets (cut like them)."""
    names = {name: name.removeprefix("previous_") for name in map(str, trend.columns)
             if name.startswith("previous_")}
    return trend[["bucket", "first", "last", "partial", *names]].rename(columns=names)


def drawings(board: kpi_board.Dashboard, granularity: str, anchor: date) -> dict[str, Drawn]:
    """Every chart's spec and every download of the page, by name: no Streamlit here."""
    trend, period, by = board.trend, board.period, f"-by-{granularity}"
    spans = ["bucket", "first", "last", "partial"]
    has_sales = bool(board.sales.orders or board.sales.refunds)
    drawn = {}
    for measure, title, money in (("revenue_cents", "Revenue (EUR)", True),
                                  ("orders", "Orders", False)):
        chart = build_trend_chart(trend, _previous(trend), measure=measure, title=title,
                                  money=money) if has_sales else None
        drawn[measure] = _drawn(chart, trend[[*spans, measure, "previous_" + measure]],
                                measure.removesuffix("_cents") + by, period)
    per_bucket = board.customers.per_bucket
    drawn["new-and-returning"] = _drawn(
        build_new_returning_chart(per_bucket) if per_bucket["active"].any() else None,
        per_bucket, "new-and-returning" + by, period)
    by_country = board.customers.by_country
    drawn["customers-by-country"] = _drawn(build_country_chart(by_country), by_country,
                                           "customers-by-country", period)
    cohorts = board.customers.cohorts
    drawn["cohort-retention"] = _drawn(
        build_cohort_heatmap(cohorts) if cohorts["share"].notna().any() else None,
        cohorts, "cohort-retention", period)
    for name, frame, title in (("category", board.by_category, "Category"),
                               ("channel", board.by_channel, "Channel")):
        drawn["revenue-by-" + name] = _drawn(build_revenue_bars(frame, title), frame,
                                             "revenue-by-" + name, period)
    drawn["rfm-grid"] = _drawn(None if board.rfm.empty else build_rfm_grid(board.rfm),
                               board.rfm, "rfm-grid", Period(anchor, anchor))
    answered = board.nps.dropna(subset=["nps"]) if "nps" in board.nps else board.nps
    drawn["nps"] = _drawn(build_nps_chart(board.nps) if len(answered) else None, board.nps,
                          "nps" + by, period)
    top = board.top_customers
    drawn["top-customers"] = Drawn(None, None if top.empty else kpi_board.csv_download(
        top, "top-customers", period))
    return drawn


