"""Chart builders: a DataFrame in, an Altair chart out, checked without Streamlit."""

from __future__ import annotations

import json

import pandas as pd
from streamlit import dataframe_util
from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

from dashboard.charts import (
    build_breakdown_chart,
    build_cohort_heatmap,
    build_country_chart,
    build_new_returning_chart,
    build_nps_chart,
    build_overlap_heatmap,
    build_revenue_bars,
    build_rfm_grid,
    build_size_history_chart,
    build_trend_chart,
    vega_spec,
)
from dashboard.prediction_charts import build_at_risk_chart, build_value_distribution


def _rows(chart) -> pd.DataFrame:
    return pd.DataFrame(chart.to_dict()["datasets"].popitem()[1])


def test_breakdown_compares_shares_of_the_largest_groups() -> None:
    breakdown = pd.DataFrame({"group": ["DE", "FR", "GB", "ES"], "members": [30, 10, 0, 10],
                              "everyone": [100, 300, 400, 50]})
    rows = _rows(build_breakdown_chart(breakdown, "Country", top=3))
    assert set(rows["group"]) == {"GB", "FR", "DE"}  # ES is not among the 3 largest
    segment = rows[rows["who"] == "Segment"].set_index("group")
    assert segment.loc["DE", "share"] == 30 / 50  # of all 50 members, ES included
    everyone = rows[rows["who"] == "All customers"].set_index("group")
    assert everyone.loc["GB", "count"] == 400


def test_overlap_heatmap_has_both_directions_and_the_diagonal() -> None:
    overlap = pd.DataFrame({"first": ["A"], "second": ["B"], "both": [5], "first_size": [10],
                            "second_size": [20]})
    rows = _rows(build_overlap_heatmap(overlap)).set_index(["first", "second"])
    assert rows.loc[("A", "B"), "share"] == 0.5
    assert rows.loc[("B", "A"), "share"] == 0.25
    assert rows.loc[("A", "A"), "share"] == rows.loc[("B", "B"), "share"] == 1.0
    # Every cell shows its count, not only its colour.
    layers = build_overlap_heatmap(overlap).to_dict()["layer"]
    assert [layer["mark"]["type"] for layer in layers] == ["rect", "text"]
    assert layers[1]["encoding"]["text"]["field"] == "both"


def test_size_history_plots_one_point_per_day() -> None:
    history = pd.DataFrame({"day": pd.to_datetime(["2026-11-20", "2026-11-21"]),
                            "size": [10, 12]})
    spec = build_size_history_chart(history).to_dict()
    assert spec["encoding"]["y"]["field"] == "size"
    assert len(_rows(build_size_history_chart(history))) == 2


def test_trend_draws_the_previous_period_dashed_in_euros() -> None:
    spans = _spans(["2026-11-02", "2026-11-09"], [False, False])
    current = spans.assign(revenue_cents=[1050, 0])
    previous = spans.assign(revenue_cents=[200, 99])
    chart = build_trend_chart(current, previous, measure="revenue_cents", title="Revenue",
                              money=True)
    rows = _rows(chart).set_index("series")
    assert list(rows.loc["This period", "value"]) == [10.5, 0.0]
    assert list(rows.loc["Previous period", "value"]) == [2.0, 0.99]
    dash = chart.to_dict()["encoding"]["strokeDash"]["scale"]
    assert dict(zip(dash["domain"], map(tuple, dash["range"]), strict=True)) == {
        "This period": (1, 0), "Previous period": (5, 4)}


def test_kpi_charts_receive_aggregated_rows() -> None:
    cohorts = pd.DataFrame({"cohort": [pd.Timestamp(2026, 1, 1)] * 2, "months_since": [0, 1],
                            "size": [10, 10], "customers": [10, 4], "share": [1.0, 0.4]})
    assert list(_rows(build_cohort_heatmap(cohorts))["cohort"]) == ["2026-01", "2026-01"]
    rfm = pd.DataFrame({"recency": [5], "frequency": [5], "group": ["Champions"],
                        "customers": [4], "spend_cents": [10_000]})
    assert _rows(build_rfm_grid(rfm))["average"].tolist() == [25.0]
    bars = pd.DataFrame({"group": ["books"], "revenue_cents": [12_345], "orders": [3],
                         "refunds": [0]})
    assert _rows(build_revenue_bars(bars, "Category"))["revenue"].tolist() == [123.45]
    per_bucket = _spans(["2026-01-05"], [False]).assign(active=[5], new=[2], returning=[3])
    stacked = _rows(build_new_returning_chart(per_bucket)).set_index("who")["customers"]
    assert stacked.to_dict() == {"New": 2, "Returning": 3}
    nps = _spans(["2026-01-05", "2026-01-12"], [False, False]).assign(
        promoters=[2, 0], passives=[0, 0], detractors=[1, 0], nps=[100 / 3, float("nan")])
    assert len(_rows(build_nps_chart(nps))) == 1  # the month without answers is left out
    countries = pd.DataFrame({"country": ["DE"], "customers": [7]})
    assert _rows(build_country_chart(countries))["customers"].tolist() == [7]


def _spans(buckets: list[str], partial: list[bool]) -> pd.DataFrame:
    """Week buckets with their days; the partial ones cut to the first two days."""
    starts = pd.to_datetime(buckets)
    return pd.DataFrame({"bucket": starts, "first": starts.date,
                         "last": [(start + pd.Timedelta(days=1 if cut else 6)).date()
                                  for start, cut in zip(starts, partial, strict=True)],
                         "partial": partial})


def _layers_by_filter(chart) -> dict[str, dict]:
    return {layer.get("transform", [{}])[0].get("filter", "all"): layer
            for layer in chart.to_dict()["layer"]}


def test_a_partial_bucket_is_drawn_apart_from_the_line_with_its_days() -> None:
    spans = _spans(["2026-11-16", "2026-11-23", "2026-11-30"], [False, False, True])
    current = spans.assign(revenue_cents=[1000, 1200, 80])
    previous = spans.assign(revenue_cents=[900, 1100, 70])
    chart = build_trend_chart(current, previous, measure="revenue_cents", title="Revenue",
                              money=True)
    rows = _rows(chart)
    cut = rows[rows["partial"]]
    assert set(cut["days"]) == {"partial: 30 Nov – 1 Dec"} and len(cut) == 2
    assert set(rows[~rows["partial"]]["days"]) == {"16 Nov – 22 Nov", "23 Nov – 29 Nov"}
    layers = _layers_by_filter(chart)
    # The solid (and dashed previous) line joins whole buckets only; the partial one is a
    # faint hollow point on a faint line.
    assert layers["!datum.partial"]["mark"]["type"] == "line"
    assert layers["datum.partial"]["mark"]["opacity"] < 1
    assert layers["datum.partial"]["mark"]["filled"] is False
    assert layers["all"]["mark"]["opacity"] < 1
    # Every layer's tooltip names the bucket's days.
    assert {"field": "days", "title": "Days", "type": "nominal"} in chart.to_dict()[
        "encoding"]["tooltip"]


def test_partial_buckets_are_faint_in_the_bars_and_the_nps_line() -> None:
    spans = _spans(["2026-11-23", "2026-11-30"], [False, True])
    per_bucket = spans.assign(active=[5, 1], new=[2, 0], returning=[3, 1])
    bars = build_new_returning_chart(per_bucket).to_dict()
    assert bars["encoding"]["opacity"]["condition"]["test"] == "datum.partial"
    assert bars["encoding"]["opacity"]["condition"]["value"] < 1
    nps = spans.assign(promoters=[2, 1], passives=[0, 0], detractors=[1, 0], nps=[100 / 3, 100])
    layers = _layers_by_filter(build_nps_chart(nps))
    assert layers["datum.partial"]["mark"]["filled"] is False


def test_cohort_months_not_over_yet_are_left_out_not_zero() -> None:
    cohorts = pd.DataFrame({"cohort": [pd.Timestamp(2026, 11, 1)] * 2 + [
        pd.Timestamp(2026, 12, 1)], "months_since": [0, 1, 0], "size": [10, 10, 4],
        "customers": [10, 0, 4], "share": [1.0, float("nan"), float("nan")]})
    rows = _rows(build_cohort_heatmap(cohorts))
    assert list(zip(rows["cohort"], rows["months_since"], strict=True)) == [("2026-11", 0)]


def test_overlap_heatmap_titles_keep_clear_of_long_labels() -> None:
    """Long segment names: the row title sits above the rows (not beside labels that can
    reach the chart's edge), and every column keeps its label."""
    name = "Customers who spent more than five hundred euros over their lifetime"
    overlap = pd.DataFrame({"first": [name], "second": ["Medium"], "both": [5],
                            "first_size": [10], "second_size": [20]})
    encoding = build_overlap_heatmap(overlap).to_dict()["layer"][0]["encoding"]
    rows, columns = encoding["y"]["axis"], encoding["x"]["axis"]
    assert rows["titleAngle"] == 0 and rows["titleY"] < 0  # above the first row
    assert rows["labelLimit"] <= 200 and columns["labelLimit"] <= 200
    assert columns["labelOverlap"] is False  # no column loses its label
    assert columns["titlePadding"] >= 8


def test_rfm_labels_wrap_and_stay_inside_their_cells() -> None:
    rfm = pd.DataFrame({"recency": [3, 2], "frequency": [1, 1],
                        "group": ["Need attention", "Hibernating"], "customers": [4, 2],
                        "spend_cents": [10_000, 500]})
    chart = build_rfm_grid(rfm)
    assert _rows(chart).set_index("group")["label"].to_dict() == {
        "Need attention": "Need\nattention", "Hibernating": "Hibernating"}
    text = chart.to_dict()["layer"][1]["mark"]
    assert text["type"] == "text" and text["lineBreak"] == "\n"
    # Cut to the cell's width, whatever width the page gives the chart.
    assert "bandwidth('x')" in text["limit"]["expr"]


def test_rfm_labels_turn_white_on_the_darkest_cells() -> None:
    rfm = pd.DataFrame({"recency": [5, 1], "frequency": [5, 1],
                        "group": ["Champions", "Lost"], "customers": [900, 100],
                        "spend_cents": [10_000, 500]})
    text = build_rfm_grid(rfm).to_dict()["layer"][1]
    assert text["transform"] == [{"joinaggregate": [
        {"op": "max", "field": "customers", "as": "most"}]}]
    colour = text["encoding"]["color"]
    assert colour["condition"] == {"test": "datum.customers > 0.6 * datum.most",
                                   "value": "white"}
    assert colour["value"] == "black"


def _kpi_charts() -> list:
    """Every chart of the KPI page (its predictions section's too), on small rows."""
    spans = _spans(["2026-11-16", "2026-11-23", "2026-11-30"], [False, False, True])
    trend = spans.assign(orders=[3, 4, 1])
    bands = pd.DataFrame({"band": ["0–50", "50–250"], "order": [0, 1], "customers": [5, 2],
                          "at_risk": [1, 0], "not_at_risk": [4, 2], "value_12m": [90.0, 300.0],
                          "at_risk_value_12m": [10.0, 0.0]})
    return [
        build_trend_chart(trend, trend.assign(orders=[2, 2, 0]), measure="orders",
                          title="Orders"),
        build_new_returning_chart(spans.assign(active=[5, 1, 1], new=[2, 0, 1],
                                               returning=[3, 1, 0])),
        build_country_chart(pd.DataFrame({"country": ["DE", "AT"], "customers": [7, 2]})),
        build_cohort_heatmap(pd.DataFrame({
            "cohort": [pd.Timestamp(2026, 10, 1)] * 2, "months_since": [0, 1],
            "size": [10, 10], "customers": [10, 4], "share": [1.0, 0.4]})),
        build_revenue_bars(pd.DataFrame({"group": ["books", "wine"], "revenue_cents": [5, 7],
                                         "orders": [1, 1], "refunds": [0, 0]}), "Category"),
        build_rfm_grid(pd.DataFrame({"recency": [5, 1], "frequency": [5, 1],
                                     "group": ["Champions", "Lost"], "customers": [4, 9],
                                     "spend_cents": [10_000, 900]})),
        build_nps_chart(spans.assign(promoters=[2, 1, 0], passives=[0, 0, 0],
                                     detractors=[1, 0, 0], nps=[100 / 3, 100, float("nan")])),
        build_value_distribution(bands), build_at_risk_chart(bands, 0.3),
    ]


def _canonical(spec: dict) -> tuple[str, list[bytes]]:
    """A spec as JSON with its data sets named by their order of appearance, and their rows
    as Streamlit sends them (Arrow)."""
    body = json.dumps({key: value for key, value in spec.items() if key != "datasets"},
                      sort_keys=True)
    rows = []
    for name in sorted(spec["datasets"], key=lambda name: body.index(f'"{name}"')):
        body = body.replace(f'"{name}"', f'"dataset {len(rows)}"')
        data = spec["datasets"][name]
        rows.append(data if isinstance(data, bytes)
                    else dataframe_util.convert_anything_to_arrow_bytes(data))
    return body, rows


def test_kpi_chart_specs_equal_what_streamlit_makes_of_the_charts() -> None:
    """The KPI page draws cached specs (vega_spec, unvalidated) instead of st.altair_chart:
    they must be what Streamlit would have sent."""
    for chart in _kpi_charts():
        assert _canonical(vega_spec(chart)) == _canonical(
            _convert_altair_to_vega_lite_spec(chart))
