"""Predictions (admin, manager): the model behind the scores and how well it fits.

Shows the newest fit — when, by whom, on which orders, its parameters — and its holdout
check: the model fitted on all but the last quarter predicts that quarter's repeat
purchases, shown against what the customers actually bought, per group of customers by
how often they had bought, and in total with the error. Admins refit here.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.access import require_page
from dashboard.prediction_charts import build_holdout_chart, holdout_frame
from dashboard.predictions_panel import fit_line
from dashboard.refit import RefitRefused, refit
from dashboard.text import format_when, plain
from db.core.access import Capability, PermissionDenied
from db.predict.service import FitInfo, NotEnoughData, latest_fit
from db.users.service import UserView

ABOUT = ("Scores come from two published models: BG/NBD (Fader, Hardie & Lee 2005) for "
         "whether a customer still buys and how often, and Gamma-Gamma for what a purchase "
         "is worth. Both are fitted to every live customer's purchase history; a purchase is "
         "a day with an order, refunds are not purchases.")


def _refit(user: UserView) -> None:
    """The admins' "Refit now"; one fit at a time (:mod:`dashboard.refit`)."""
    if not user.actor.can(Capability.ADMINISTER):
        st.caption("An admin refits the model here.")
        return
    st.caption("Refitting reads every customer's orders and replaces all scores; the "
               "previous scores stay if the fit fails.")
    if not st.button("Refit now", type="primary", icon=":material/model_training:",
                     key="predictions_refit"):
        return
    try:
        with st.spinner("Fitting the model to every customer's orders…"):
            made = refit(user.actor)
    except NotEnoughData as error:
        st.error(plain(error))
    except RefitRefused as refused:
        st.warning(plain(refused))
    except PermissionDenied as denied:
        st.error(plain(denied))
    else:
        st.success(f"Fitted: {made.customers_scored:,} customers scored in "
                   f"{made.seconds:,.1f} s.")


def _summary(fit: FitInfo) -> None:
    st.subheader("Newest fit")
    who = (f"{fit_line(fit)} Fitted at {format_when(fit.fitted_at)} by {fit.fitted_by} in "
           f"{fit.seconds:,.1f} s.")
    st.text(who)
    columns = st.columns(4)
    columns[0].metric("Fitted", fit.age_text().removeprefix("fitted "),
                      help=f"{format_when(fit.fitted_at)}")
    columns[1].metric("Customers scored", f"{fit.customers_scored:,}")
    columns[2].metric("Buyers", f"{fit.buyers:,}",
                      help="Customers with a purchase: the model applies to them.")
    columns[3].metric("Repeat buyers", f"{fit.repeat_buyers:,}",
                      help="Buyers with more than one purchase day: the model learns "
                           "from them when customers stop.")


def _check(fit: FitInfo) -> None:
    st.subheader("Model check: predicted against actual")
    check = fit.holdout
    if check is None:
        st.warning(plain(f"No holdout check with this fit: {fit.holdout_problem or 'not run'}."))
        return
    st.caption(f"Fitted on orders up to {check.calibration_end:%Y-%m-%d}, then asked to "
               f"predict the repeat purchases of the {check.customers:,} customers who had "
               f"bought by then from {check.calibration_end:%Y-%m-%d} to "
               f"{check.holdout_end:%Y-%m-%d}; the actual figures are what they bought.")
    columns = st.columns(4)
    columns[0].metric("Predicted purchases", f"{check.predicted_total:,.1f}")
    columns[1].metric("Actual purchases", f"{check.actual_total:,}")
    columns[2].metric("Error of the total", f"{check.total_error_pct:+.1f}%",
                      help="(predicted − actual) / actual: negative means the model "
                           "expected fewer purchases than were made.")
    columns[3].metric("Mean error per customer", f"{check.mae:.2f}",
                      help="The average, over the customers checked, of the difference "
                           "between predicted and actual purchases.")
    groups = holdout_frame(check)
    st.altair_chart(build_holdout_chart(groups), width="stretch")
    st.dataframe(groups.rename(columns={
        "repeat_purchases": "Repeat purchases before", "customers": "Customers",
        "predicted": "Predicted", "actual": "Actual"}), hide_index=True,
        column_config={name: st.column_config.NumberColumn(format="localized")
                       for name in ("Customers", "Predicted", "Actual")})


def _parameters(fit: FitInfo) -> None:
    st.subheader("Parameters")
    st.dataframe(pd.DataFrame([
        {"Model": "BG/NBD", "Parameter": "r", "Value": fit.bgnbd.r,
         "Meaning": "shape of how often customers buy"},
        {"Model": "BG/NBD", "Parameter": "alpha", "Value": fit.bgnbd.alpha,
         "Meaning": f"scale of how often customers buy (time unit: {fit.unit})"},
        {"Model": "BG/NBD", "Parameter": "a", "Value": fit.bgnbd.a,
         "Meaning": "with b: the chance a customer stops after a purchase"},
        {"Model": "BG/NBD", "Parameter": "b", "Value": fit.bgnbd.b,
         "Meaning": "with a: the chance a customer stops after a purchase"},
        {"Model": "Gamma-Gamma", "Parameter": "p", "Value": fit.gamma_gamma.p,
         "Meaning": "shape of the spend per purchase"},
        {"Model": "Gamma-Gamma", "Parameter": "q", "Value": fit.gamma_gamma.q,
         "Meaning": "with v: how customers' average spend varies"},
        {"Model": "Gamma-Gamma", "Parameter": "v", "Value": fit.gamma_gamma.v,
         "Meaning": "with q: how customers' average spend varies"},
    ]), hide_index=True, column_config={"Value": st.column_config.NumberColumn(
        format="%.4f")})
    st.caption(f"12-month value discounted by {fit.monthly_discount:.2%} a month (the "
               "Settings page's monthly discount rate at the time of the fit).")


def main() -> None:
    user = require_page(Capability.VIEW_KPIS, "the Predictions page")
    st.title("Predictions")
    st.caption(ABOUT)
    _refit(user)
    fit = latest_fit(user.actor)
    if fit is None:
        st.info("No predictions yet: the model has not been fitted."
                + (" Click “Refit now” above." if user.actor.can(Capability.ADMINISTER)
                   else " An admin fits it on this page."))
        return
    _summary(fit)
    _check(fit)
    _parameters(fit)


main()
