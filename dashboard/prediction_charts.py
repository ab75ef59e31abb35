"""Altair charts of the prediction scores: value bands, at risk by band, and the holdout
check (predicted against actual repeat purchases). Tables in, charts out: no queries."""

from __future__ import annotations

import altair as alt
import pandas as pd

from dashboard.charts import NEW_COLOUR, SPEND_COLOUR
from db.predict.holdout import HoldoutCheck
from db.predict.outlook import ValueBand

AT_RISK_COLOUR = "#d62728"
SAFE_COLOUR = "#9ecae1"


def bands_frame(bands: tuple[ValueBand, ...]) -> pd.DataFrame:
    """One row per value band, in band order: customers, at risk, their values."""
    return pd.DataFrame([{"band": band.label, "order": index, "customers": band.customers,
                          "at_risk": band.at_risk, "not_at_risk": band.customers - band.at_risk,
                          "value_12m": band.value_12m,
                          "at_risk_value_12m": band.at_risk_value_12m}
                         for index, band in enumerate(bands)])


def build_value_distribution(bands: pd.DataFrame) -> alt.Chart:
    """Customers per 12-month value band (``bands_frame``), the bands in value order."""
    order = list(bands["band"])
    return alt.Chart(bands).mark_bar(color=SPEND_COLOUR).encode(
        x=alt.X("band:N", title="12-month value (EUR)", sort=order),
        y=alt.Y("customers:Q", title="Customers"),
        tooltip=[alt.Tooltip("band:N", title="12-month value"),
                 alt.Tooltip("customers:Q", title="Customers", format=","),
                 alt.Tooltip("value_12m:Q", title="Their value (EUR)", format=",.2f")],
    )


def build_at_risk_chart(bands: pd.DataFrame, at_risk_below: float) -> alt.Chart:
    """Customers per value band, split into at risk (probability active below the
    threshold) and not."""
    order = list(bands["band"])
    at_risk = f"At risk (active < {at_risk_below:.0%})"
    long = bands.melt(id_vars=["band", "order", "at_risk_value_12m"],
                      value_vars=["at_risk", "not_at_risk"], var_name="group",
                      value_name="count")
    long["group"] = long["group"].map({"at_risk": at_risk, "not_at_risk": "Not at risk"})
    return alt.Chart(long).mark_bar().encode(
        y=alt.Y("band:N", title="12-month value (EUR)", sort=order),
        x=alt.X("count:Q", title="Customers", stack="zero"),
        color=alt.Color("group:N", title=None, sort=[at_risk, "Not at risk"],
                        scale=alt.Scale(domain=[at_risk, "Not at risk"],
                                        range=[AT_RISK_COLOUR, SAFE_COLOUR])),
        order=alt.Order("group:N", sort="ascending"),
        tooltip=[alt.Tooltip("band:N", title="12-month value"),
                 alt.Tooltip("group:N", title="Group"),
                 alt.Tooltip("count:Q", title="Customers", format=","),
                 alt.Tooltip("at_risk_value_12m:Q", title="Value at risk (EUR)",
                             format=",.2f")],
    ).properties(height=alt.Step(26))


def holdout_frame(check: HoldoutCheck) -> pd.DataFrame:
    """Per calibration frequency group: customers, predicted and actual holdout purchases."""
    return pd.DataFrame([{"repeat_purchases": group.label, "customers": group.customers,
                          "predicted": group.predicted, "actual": group.actual}
                         for group in check.groups])


def build_holdout_chart(groups: pd.DataFrame) -> alt.Chart:
    """Predicted and actual holdout purchases side by side per frequency group
    (``holdout_frame``)."""
    order = list(groups["repeat_purchases"])
    long = groups.melt(id_vars=["repeat_purchases", "customers"],
                       value_vars=["predicted", "actual"], var_name="series",
                       value_name="purchases")
    long["series"] = long["series"].map({"predicted": "Predicted", "actual": "Actual"})
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("repeat_purchases:N", sort=order,
                title="Repeat purchases in the calibration period"),
        xOffset=alt.XOffset("series:N", sort=["Predicted", "Actual"]),
        y=alt.Y("purchases:Q", title="Purchases in the holdout period"),
        color=alt.Color("series:N", title=None, sort=["Predicted", "Actual"],
                        scale=alt.Scale(domain=["Predicted", "Actual"],
                                        range=[SPEND_COLOUR, NEW_COLOUR])),
        tooltip=[alt.Tooltip("repeat_purchases:N", title="Repeat purchases"),
                 alt.Tooltip("customers:Q", title="Customers", format=","),
                 alt.Tooltip("series:N", title="Series"),
                 alt.Tooltip("purchases:Q", title="Purchases", format=",.1f")],
    )
