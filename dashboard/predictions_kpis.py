"""The KPI page's predictions section: revenue expected in the next quarter with its range,
how the customers' 12-month value is spread, and who is at risk in each value band — all
from the newest fit (:func:`db.predict.outlook.outlook`), each saying which fit."""

from __future__ import annotations

from collections.abc import Hashable

import streamlit as st

from dashboard.charts import vega_spec
from dashboard.filling import rerun_when
from dashboard.prediction_charts import (
    bands_frame,
    build_at_risk_chart,
    build_value_distribution,
)
from dashboard.predictions_panel import fit_line, refit_hint
from dashboard.text import plain
from db.predict.outlook import outlook_failed, outlook_of_version
from db.users.service import UserView


def predictions_section(user: UserView, version: Hashable) -> None:
    """The section, or one line when no fit exists yet. The outlook takes seconds at a
    million customers: it is computed once per data ``version`` in the background, and
    until then the section says so while the rest of the page is shown."""
    st.header("Predictions")
    ready, figures = outlook_of_version(user.actor, version)
    if not ready:
        if outlook_failed(version):
            st.error("The predictions outlook could not be computed (the server's log says "
                     "why).")
            return
        st.info("Computing the predictions outlook over every scored customer; it appears "
                "here when done.")
        rerun_when(lambda: outlook_of_version(user.actor, version, wait_s=0)[0]
                   or outlook_failed(version))
        return
    if figures is None:
        st.info("No predictions yet: the model has not been fitted, so there is no revenue "
                "forecast, value spread or risk by band.")
        refit_hint(user)
        return
    fitted = plain(fit_line(figures.fit))
    st.caption(f"All customers, whatever the filters above. {fitted} "
               f"{figures.scored:,} customers with a purchase scored; {figures.not_scored:,} "
               "without a purchase by the fit's day, or added since.")
    low, high = figures.revenue_90d_low, figures.revenue_90d_high
    st.metric("Predicted revenue, next 90 days", f"€{figures.revenue_90d:,.0f}",
              help="Each scored customer's expected purchases in the 90 days after the fit "
                   "× their expected spend per purchase. The range covers about 90% of "
                   "outcomes from who buys and for how much, not the model's own "
                   "uncertainty.")
    st.caption(f"Range €{low:,.0f} – €{high:,.0f} (about 90%). {fitted}")
    bands = bands_frame(figures.bands)
    if figures.scored == 0:
        st.info("No customer has a score, so there is no value spread or risk to show.")
        return
    left, right = st.columns(2)
    with left:
        st.subheader("Customer 12-month value")
        st.vega_lite_chart(spec=vega_spec(build_value_distribution(bands)), width="stretch")
        st.caption(f"Scored customers per band of expected 12-month value. {fitted}")
    with right:
        st.subheader("Customers at risk by value")
        st.vega_lite_chart(spec=vega_spec(build_at_risk_chart(bands, figures.at_risk_below)),
                           width="stretch")
        at_risk = int(bands["at_risk"].sum())
        value = float(bands["at_risk_value_12m"].sum())
        st.caption(f"{at_risk:,} customers with a probability active below "
                   f"{figures.at_risk_below:.0%}, worth €{value:,.0f} over 12 months. "
                   f"{fitted}")
