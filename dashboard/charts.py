"""Chart builders: a DataFrame in, an Altair chart out — no Streamlit, so unit-testable."""

from __future__ import annotations

from datetime import date
from typing import Any

import altair as alt
import pandas as pd

SPEND_COLOUR = "#2f6f8f"


def vega_spec(chart: alt.Chart | alt.LayerChart) -> dict[str, Any]:
    """The Vega-Lite spec that ``st.altair_chart(chart)`` sends, ready for
    ``st.vega_lite_chart(spec=...)`` and for caching: its rows as named data sets (data
    frames, which Streamlit sends as Arrow as it does for Altair), without Altair's theme
    defaults (Streamlit draws with its own) and without validating the spec against the
    Vega-Lite schema. That validation took about 80 ms a chart, most of the KPI page's
    rerun at any size; the builders here are fixed code, and tests/dashboard/test_charts.py
    checks that their specs equal what ``st.altair_chart`` makes of them."""
    datasets: dict[str, pd.DataFrame] = {}
    spec = _named(chart, datasets).to_dict(validate=False)
    theme = alt.theme.get()
    if theme is not None and spec.get("config") == theme().get("config"):  # not the chart's
        spec.pop("config", None)
    spec["datasets"] = datasets
    return spec


def _named(chart: Any, datasets: dict[str, pd.DataFrame]) -> Any:
    """A shallow copy of ``chart`` (and of its layers) whose data frames are replaced by
    references to ``datasets``, where they are put."""
    copy = chart.copy(deep=False)
    data = getattr(copy, "data", alt.Undefined)
    if isinstance(data, pd.DataFrame):
        name = f"data-{len(datasets)}"
        datasets[name] = data
        copy.data = alt.NamedData(name=name)
    layers = getattr(copy, "layer", alt.Undefined)
    if isinstance(layers, list):
        copy.layer = [_named(layer, datasets) for layer in layers]
    return copy


def build_spend_chart(orders: pd.DataFrame) -> alt.Chart:
    """Monthly spend of one customer: ``orders`` has ``ordered_at`` (UTC) and ``amount``.

    Aggregated to months here, so the chart never receives one point per order.
    """
    monthly = (orders.assign(month=orders["ordered_at"].dt.tz_convert("UTC").dt.tz_localize(None)
                             .dt.to_period("M").dt.to_timestamp(),
                             amount=orders["amount"].astype(float))
               .groupby("month", as_index=False)
               .agg(spend=("amount", "sum"), orders=("amount", "size")))
    return alt.Chart(monthly).mark_bar(color=SPEND_COLOUR).encode(
        x=alt.X("yearmonth(month):T", title="Month"),
        y=alt.Y("spend:Q", title="Spend (EUR)"),
        tooltip=[alt.Tooltip("yearmonth(month):T", title="Month"),
                 alt.Tooltip("spend:Q", title="Spend", format=",.2f"),
                 alt.Tooltip("orders:Q", title="Orders")],
    ).properties(height=220)


MEMBERS_COLOUR = "#c8553d"
EVERYONE_COLOUR = "#9aa5b1"


def build_breakdown_chart(breakdown: pd.DataFrame, title: str, *, top: int = 10) -> alt.Chart:
    """Members against all customers, as shares of each, per group (country, age band, …).

    ``breakdown`` has ``group``, ``members`` and ``everyone`` counts; the ``top`` largest
    groups (by all customers) are kept so that the chart stays readable.
    """
    # The largest groups, shown in the order given (bands keep their natural order).
    kept = breakdown.loc[breakdown["everyone"].nlargest(top).index].sort_index()
    member_total = max(int(breakdown["members"].sum()), 1)
    everyone_total = max(int(breakdown["everyone"].sum()), 1)
    long = pd.concat([
        pd.DataFrame({"group": kept["group"], "who": "Segment", "count": kept["members"],
                      "share": kept["members"] / member_total}),
        pd.DataFrame({"group": kept["group"], "who": "All customers",
                      "count": kept["everyone"], "share": kept["everyone"] / everyone_total}),
    ], ignore_index=True)
    order = list(kept["group"])
    return alt.Chart(long).mark_bar().encode(
        y=alt.Y("group:N", title=None, sort=order),
        x=alt.X("share:Q", title="Share", axis=alt.Axis(format="%")),
        yOffset=alt.YOffset("who:N", sort=["Segment", "All customers"]),
        color=alt.Color("who:N", title=None, sort=["Segment", "All customers"],
                        scale=alt.Scale(range=[MEMBERS_COLOUR, EVERYONE_COLOUR]),
                        legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("group:N", title=title), alt.Tooltip("who:N", title="Of"),
                 alt.Tooltip("count:Q", title="Customers", format=","),
                 alt.Tooltip("share:Q", title="Share", format=".1%")],
    ).properties(title=title, height=alt.Step(9))


def build_size_history_chart(history: pd.DataFrame) -> alt.Chart:
    """A saved segment's size per day: ``history`` has ``day`` and ``size``."""
    return alt.Chart(history).mark_line(
        color=MEMBERS_COLOUR, point=alt.OverlayMarkDef(color=MEMBERS_COLOUR)).encode(
        x=alt.X("day:T", title="Day"),
        y=alt.Y("size:Q", title="Members", axis=alt.Axis(format=",d", tickMinStep=1)),
        tooltip=[alt.Tooltip("day:T", title="Day"),
                 alt.Tooltip("size:Q", title="Members", format=",")],
    ).properties(height=220)


OVERLAP_LABEL_LIMIT = 180  # pixels of a segment's name on the overlap heat map's axes


def build_overlap_heatmap(overlap: pd.DataFrame) -> alt.Chart:
    """Pairwise overlaps as a heat map; ``overlap`` has first, second, both, *_size."""
    sizes = pd.concat([overlap[["first", "first_size"]].set_axis(["name", "size"], axis=1),
                       overlap[["second", "second_size"]].set_axis(["name", "size"], axis=1)]
                      ).drop_duplicates("name")
    itself = pd.DataFrame({"first": sizes["name"], "second": sizes["name"],
                           "both": sizes["size"], "first_size": sizes["size"],
                           "second_size": sizes["size"]})
    both_ways = pd.concat([
        overlap, overlap.rename(columns={"first": "second", "second": "first",
                                         "first_size": "second_size",
                                         "second_size": "first_size"}), itself],
        ignore_index=True)
    both_ways["share"] = both_ways["both"] / both_ways["first_size"].clip(lower=1)
    order = list(sizes["name"])
    # Long names are cut (the tooltip has them whole). The rows' title sits above the rows,
    # right-aligned on the axis, so no label can run into it; every column keeps its label
    # (slanted, they do not touch even where their boxes overlap).
    base = alt.Chart(both_ways).encode(
        x=alt.X("second:N", title="…are also in", sort=order,
                axis=alt.Axis(labelAngle=-40, labelLimit=OVERLAP_LABEL_LIMIT,
                              labelOverlap=False, titlePadding=10)),
        y=alt.Y("first:N", title="Members of…", sort=order,
                axis=alt.Axis(labelLimit=OVERLAP_LABEL_LIMIT, titleAngle=0, titleAlign="right",
                              titleBaseline="bottom", titleX=-6, titleY=-8)),
        tooltip=[alt.Tooltip("first:N", title="Members of"),
                 alt.Tooltip("second:N", title="Also in"),
                 alt.Tooltip("both:Q", title="Customers", format=","),
                 alt.Tooltip("share:Q", title="Share of the first", format=".1%")])
    cells = base.mark_rect().encode(
        color=alt.Color("share:Q", title="Share", scale=alt.Scale(scheme="oranges"),
                        legend=alt.Legend(format="%")))
    # Each cell's count in it, dark on the pale cells and white on the strong ones.
    counts = base.mark_text(fontSize=12).encode(
        text=alt.Text("both:Q", format=","),
        color=alt.condition(alt.datum.share > 0.6, alt.value("white"), alt.value("black")))
    return (cells + counts).properties(height=alt.Step(40), width=alt.Step(80))


TREND_SERIES = ["This period", "Previous period"]
# How a partial bucket (see db.kpi.periods.bucket_spans) is drawn: faint, and as a hollow point
# off the line, so that a week cut to two days does not read as a collapse.
PARTIAL_OPACITY = 0.4


def _days(first: date, last: date) -> str:
    """A bucket's days as a reader says them: "30 Nov – 1 Dec" (years only across one)."""
    shown = "%-d %b %Y" if first.year != last.year else "%-d %b"
    if first == last:
        return f"{first:{shown}}"
    return f"{first:{shown}} – {last:{shown}}"


def _with_days(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (with ``first``, ``last`` and ``partial`` per bucket) plus ``days``, the
    tooltip's text, which says "partial" for a partial bucket."""
    days = [("partial: " if partial else "") + _days(first, last) for first, last, partial
            in zip(frame["first"], frame["last"], frame["partial"], strict=True)]
    return frame.assign(days=days, partial=frame["partial"].astype(bool))


def _line_over_buckets(data: pd.DataFrame) -> alt.LayerChart:
    """Layers for a line per bucket: the solid line (with points) through whole buckets
    only (first, so the legend shows it), a faint line through every bucket, and a hollow
    faint point on partial ones. ``data`` needs ``partial``; the caller encodes x, y and
    the rest on the result."""
    # The class itself, not alt.layer(): that may return a FacetChart (when the layers share
    # a facet encoding, which these never have), and the callers encode on a LayerChart.
    return alt.LayerChart(data=data, layer=[
        alt.Chart().transform_filter("!datum.partial").mark_line(point=True),
        alt.Chart().mark_line(opacity=PARTIAL_OPACITY),
        alt.Chart().transform_filter("datum.partial").mark_point(
            filled=False, opacity=PARTIAL_OPACITY + 0.2, size=70)])


def build_trend_chart(current: pd.DataFrame, previous: pd.DataFrame, *, measure: str,
                      title: str, money: bool = False) -> alt.LayerChart:
    """One measure per bucket as a line, the previous period's as a dashed line over it.

    Both frames have ``bucket`` (the bucket's first day), ``first``, ``last``, ``partial``
    (see db.kpi.periods.bucket_spans) and ``measure``; ``previous`` is already moved forward
    onto this period's buckets (and cut like them). ``money`` values are cents. Partial
    buckets are drawn faint and apart from the line.
    """
    scale = 100 if money else 1
    columns = ["bucket", "first", "last", "partial", measure]
    long = pd.concat([_with_days(frame[columns]).assign(series=name)
                      for frame, name in ((current, TREND_SERIES[0]),
                                          (previous, TREND_SERIES[1]))], ignore_index=True)
    long["value"] = long[measure] / scale
    number = ",.2f" if money else ","
    return _line_over_buckets(long[["bucket", "days", "partial", "series", "value"]]).encode(
        x=alt.X("bucket:T", title=None),
        y=alt.Y("value:Q", title=title),
        color=alt.Color("series:N", title=None, sort=TREND_SERIES,
                        scale=alt.Scale(domain=TREND_SERIES,
                                        range=[SPEND_COLOUR, EVERYONE_COLOUR]),
                        legend=alt.Legend(orient="bottom", symbolOpacity=1)),
        strokeDash=alt.StrokeDash("series:N", sort=TREND_SERIES, legend=None,
                                  scale=alt.Scale(domain=TREND_SERIES, range=[[1, 0], [5, 4]])),
        tooltip=[alt.Tooltip("days:N", title="Days"), alt.Tooltip("series:N", title="Of"),
                 alt.Tooltip("value:Q", title=title, format=number)],
    ).properties(height=260)


NEW_COLOUR = "#e07a5f"
RETURNING_COLOUR = SPEND_COLOUR
PROMOTER_COLOUR = "#3d8c5c"


def build_new_returning_chart(per_bucket: pd.DataFrame) -> alt.Chart:
    """Active customers per bucket, stacked into new and returning: ``per_bucket`` has
    ``bucket``, ``first``, ``last``, ``partial``, ``new`` and ``returning``; partial
    buckets' bars are faint."""
    long = _with_days(per_bucket).melt(id_vars=["bucket", "days", "partial"],
                                       value_vars=["new", "returning"], var_name="who",
                                       value_name="customers")
    long["who"] = long["who"].map({"new": "New", "returning": "Returning"})
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("bucket:T", title=None),
        y=alt.Y("customers:Q", title="Active customers", stack="zero"),
        color=alt.Color("who:N", title=None, sort=["New", "Returning"],
                        scale=alt.Scale(domain=["New", "Returning"],
                                        range=[NEW_COLOUR, RETURNING_COLOUR]),
                        legend=alt.Legend(orient="bottom")),
        order=alt.Order("who:N", sort="descending"),
        opacity=alt.condition("datum.partial", alt.value(PARTIAL_OPACITY), alt.value(1.0)),
        tooltip=[alt.Tooltip("days:N", title="Days"), alt.Tooltip("who:N", title="Who"),
                 alt.Tooltip("customers:Q", title="Customers", format=",")],
    ).properties(height=260)


def build_cohort_heatmap(cohorts: pd.DataFrame) -> alt.Chart:
    """Monthly cohorts (rows) by months since the first order (columns), shaded by the share
    still buying: ``cohorts`` has ``cohort``, ``months_since``, ``size``, ``customers``
    and ``share``. Cells without a share (months not over yet) are left empty."""
    complete = cohorts.dropna(subset=["share"])
    frame = complete.assign(cohort=pd.to_datetime(complete["cohort"]).dt.strftime("%Y-%m"))
    base = alt.Chart(frame).encode(
        x=alt.X("months_since:O", title="Months since the first order"),
        y=alt.Y("cohort:O", title="First order in"),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("share:Q", title="Still buying", scale=alt.Scale(scheme="blues",
                                                                         domain=[0, 1]),
                        legend=alt.Legend(format="%")),
        tooltip=[alt.Tooltip("cohort:O", title="Cohort"),
                 alt.Tooltip("months_since:O", title="Months since"),
                 alt.Tooltip("size:Q", title="Cohort size", format=","),
                 alt.Tooltip("customers:Q", title="Still buying", format=","),
                 alt.Tooltip("share:Q", title="Share", format=".1%")],
    )
    labels = base.mark_text(fontSize=10).encode(
        text=alt.Text("share:Q", format=".0%"),
        color=alt.condition("datum.share > 0.5", alt.value("white"), alt.value("black")))
    return (cells + labels).properties(height=alt.Step(22))


def build_rfm_grid(rfm: pd.DataFrame) -> alt.Chart:
    """Customers per recency × frequency score, with the cell's group and average spend
    in the tooltip: ``rfm`` has ``recency``, ``frequency``, ``group``, ``customers`` and
    ``spend_cents``."""
    frame = rfm.assign(average=rfm["spend_cents"] / rfm["customers"].where(
        rfm["customers"] > 0) / 100,
        # Two-word names on two lines, so that they fit a narrow cell.
        label=rfm["group"].str.replace(" ", "\n", regex=False))
    base = alt.Chart(frame).encode(
        x=alt.X("frequency:O", title="Frequency (5 = 10 or more orders)"),
        y=alt.Y("recency:O", title="Recency (5 = last 30 days)", sort="descending"),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("customers:Q", title="Customers", scale=alt.Scale(scheme="oranges")),
        tooltip=[alt.Tooltip("group:N", title="Group"),
                 alt.Tooltip("recency:O", title="Recency"),
                 alt.Tooltip("frequency:O", title="Frequency"),
                 alt.Tooltip("customers:Q", title="Customers", format=","),
                 alt.Tooltip("average:Q", title="Average spend (EUR)", format=",.2f")],
    )
    # Cut (with an ellipsis) to the cell's width less a margin, whatever width the page
    # gives the chart; the tooltip names the group in full.
    # White on the darkest cells (the scale is "oranges", from zero to the most customers).
    labels = base.transform_joinaggregate(most="max(customers)").mark_text(
        fontSize=10, lineBreak="\n", limit=alt.ExprRef("bandwidth('x') - 6")).encode(
        text=alt.Text("label:N"),
        color=alt.condition("datum.customers > 0.6 * datum.most", alt.value("white"),
                            alt.value("black")))
    return (cells + labels).properties(height=alt.Step(40))


def build_revenue_bars(breakdown: pd.DataFrame, title: str) -> alt.Chart:
    """Revenue per group, largest first: ``breakdown`` has ``group``, ``revenue_cents``,
    ``orders`` and ``refunds``."""
    frame = breakdown.assign(revenue=breakdown["revenue_cents"] / 100)
    return alt.Chart(frame).mark_bar(color=SPEND_COLOUR).encode(
        y=alt.Y("group:N", title=title, sort="-x"),
        x=alt.X("revenue:Q", title="Revenue (EUR)"),
        tooltip=[alt.Tooltip("group:N", title=title),
                 alt.Tooltip("revenue:Q", title="Revenue (EUR)", format=",.2f"),
                 alt.Tooltip("orders:Q", title="Orders", format=","),
                 alt.Tooltip("refunds:Q", title="Refunds", format=",")],
    ).properties(height=alt.Step(26))


def build_country_chart(by_country: pd.DataFrame) -> alt.Chart:
    """Active customers per country: ``by_country`` has ``country`` and ``customers``."""
    return alt.Chart(by_country).mark_bar(color=RETURNING_COLOUR).encode(
        y=alt.Y("country:N", title="Country", sort="-x"),
        x=alt.X("customers:Q", title="Active customers"),
        tooltip=[alt.Tooltip("country:N", title="Country"),
                 alt.Tooltip("customers:Q", title="Customers", format=",")],
    ).properties(height=alt.Step(26))


def build_nps_chart(nps: pd.DataFrame) -> alt.LayerChart:
    """NPS per bucket with the answers behind it: ``nps`` has ``bucket``, ``first``,
    ``last``, ``partial``, ``promoters``, ``passives``, ``detractors`` and ``nps`` (buckets
    without answers are left out); partial buckets are drawn faint and apart."""
    answered = nps.dropna(subset=["nps"])
    frame = _with_days(answered).assign(
        answers=answered["promoters"] + answered["passives"] + answered["detractors"])
    return _line_over_buckets(frame.drop(columns=["first", "last"])).encode(
        x=alt.X("bucket:T", title=None),
        y=alt.Y("nps:Q", title="NPS", scale=alt.Scale(domain=[-100, 100])),
        color=alt.value(PROMOTER_COLOUR),
        tooltip=[alt.Tooltip("days:N", title="Days"),
                 alt.Tooltip("nps:Q", title="NPS", format=".0f"),
                 alt.Tooltip("answers:Q", title="Answers", format=","),
                 alt.Tooltip("promoters:Q", title="Promoters", format=","),
                 alt.Tooltip("detractors:Q", title="Detractors", format=",")],
    ).properties(height=220)
