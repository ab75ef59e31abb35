"""The KPI page's predictions section: revenue expected in the next quarter with its range,
how the customers' 12-month value is spread, and who is at risk in each value band — all
from the newest fit (:func:`db.predict.outlook.outlook`), each saying which fit."""

from __future__ import annotations

import streamlit as st

from dashboard.charts import vega_spec
from dashboard.prediction_charts import (
    bands_frame,
    build_at_risk_chart,
    build_value_distribution,
)
from dashboard.predictions_panel import fit_line, refit_hint
from dashboard.text import plain
from db.core.access import Actor
from db.predict.outlook import Outlook, outlook
from db.users.service import UserView


@st.cache_data(ttl=600, max_entries=8, show_spinner=False)
def _outlook(role: str, username: str, version: tuple[int, ...]) -> Outlook | None:
    """The outlook, once per data version (a fit is audited, so it moves the version): it
    sums every customer's scores and counts the live customers, a second or more at a
    million customers, which every rerun of the KPI page paid."""
    return outlook(Actor(username, role))


def predictions_section(user: UserView, version: tuple[int, ...]) -> None:
    """The section, or one line when no fit exists yet; ``version`` is the data version
    (:func:`db.kpi.board.data_version`) that keys the cached figures."""
    st.header("Predictions")
    figures = _outlook(user.role, user.username, version)
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
