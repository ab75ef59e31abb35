"""The models against the papers' own figures on the CDNOW sample, and sanity the models
must show whatever the data."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from db.predict import bgnbd, gamma_gamma, holdout
from db.predict.histories import histories_from_orders
from tests.predict.conftest import cdnow_file, cdnow_orders

PAPER = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # Fader, Hardie & Lee 2005
CALIBRATION_END, HOLDOUT_END = date(1997, 9, 30), date(1998, 6, 30)  # 39 + 39 weeks


def test_bgnbd_matches_the_paper_on_the_cdnow_summary() -> None:
    summary = pd.read_csv(cdnow_file("cdnow_customers_summary.csv"))
    assert len(summary) == 2357
    fitted = bgnbd.fit(summary["frequency"], summary["recency"], summary["T"]).as_dict()
    for name, published in PAPER.items():
        assert fitted[name] == pytest.approx(published, rel=0.01), name


def test_bgnbd_matches_the_paper_from_the_raw_purchases() -> None:
    histories = histories_from_orders(cdnow_orders(), as_of=CALIBRATION_END, unit="weeks")
    assert len(histories) == 2357 and histories.buyers.all()
    fitted = bgnbd.fit(histories.x, histories.t_x, histories.T).as_dict()
    for name, published in PAPER.items():
        assert fitted[name] == pytest.approx(published, rel=0.01), name


def test_gamma_gamma_matches_the_published_values() -> None:
    summary = pd.read_csv(cdnow_file("cdnow_customers_summary_with_transactions.csv"))
    fitted = gamma_gamma.fit(summary["x"], summary["zbar"])
    assert fitted.p == pytest.approx(6.25, rel=0.01)
    assert fitted.q == pytest.approx(3.74, rel=0.01)
    assert fitted.v == pytest.approx(15.44, rel=0.01)


def test_the_39_week_holdout_on_cdnow_against_pandas() -> None:
    orders = cdnow_orders()
    check = holdout.check_orders(orders, calibration_end=CALIBRATION_END,
                                 holdout_end=HOLDOUT_END, unit="weeks")
    # Actual: purchase days per customer in the holdout, counted independently.
    later = orders[(orders["day"] > "1997-09-30") & (orders["day"] <= "1998-06-30")]
    assert check.actual_total == len(later.drop_duplicates(["customer_id", "day"])) == 1882
    # Predicted: equation 10 summed, per calibration frequency group as pandas groups them.
    first = orders.groupby("customer_id")["day"].min()
    calib = orders[orders["day"] <= "1997-09-30"].drop_duplicates(["customer_id", "day"])
    x = calib.groupby("customer_id").size() - 1
    last = calib.groupby("customer_id")["day"].max()
    t_x = (last - first).dt.days / 7
    T = (pd.Timestamp("1997-09-30") - first).dt.days / 7
    expected = pd.Series(bgnbd.expected_purchases(check.params, 39, x, t_x, T), index=x.index)
    assert check.predicted_total == pytest.approx(expected.sum(), abs=0.01)
    assert check.predicted_total == pytest.approx(1653.4, abs=1)
    by_group = expected.groupby(x.clip(upper=7)).sum()
    assert [group.predicted for group in check.groups] == pytest.approx(
        list(by_group), abs=0.01)
    assert [group.customers for group in check.groups] == list(
        x.clip(upper=7).value_counts().sort_index())
    assert check.total_error_pct == pytest.approx((1653.4 - 1882) / 1882 * 100, abs=0.1)
    assert sum(group.actual for group in check.groups) == check.actual_total


PARAMS = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)


def test_a_more_recent_last_purchase_means_more_likely_active() -> None:
    recency = np.linspace(1, 38, 20)
    alive = bgnbd.p_alive(PARAMS, np.full(20, 3), recency, np.full(20, 38.0))
    assert np.all(np.diff(alive) > 0)
    assert np.all((alive > 0) & (alive <= 1))


def test_more_purchases_at_the_same_recency_mean_more_expected_purchases() -> None:
    purchases = np.arange(1, 15)
    expected = bgnbd.expected_purchases(PARAMS, 13, purchases, np.full(14, 35.0),
                                        np.full(14, 38.0))
    assert np.all(np.diff(expected) > 0)


def test_one_time_buyers_are_active_by_assumption_and_fade_with_age() -> None:
    ages = np.array([1.0, 10.0, 50.0])
    assert list(bgnbd.p_alive(PARAMS, [0, 0, 0], [0, 0, 0], ages)) == [1.0, 1.0, 1.0]
    expected = bgnbd.expected_purchases(PARAMS, 13, [0, 0, 0], [0, 0, 0], ages)
    assert np.all(np.diff(expected) < 0) and np.all(expected > 0)


def test_spend_shrinks_a_customers_mean_toward_the_population() -> None:
    params = gamma_gamma.GammaGammaParams(p=6.25, q=3.74, v=15.44)
    assert gamma_gamma.expected_spend(params, [0], [0])[0] == pytest.approx(
        params.population_mean)
    few, many = gamma_gamma.expected_spend(params, [1, 20], [100.0, 100.0])
    assert params.population_mean < few < many < 100


def test_value_is_discounted_and_grows_with_the_horizon() -> None:
    def value(months: int, discount: float) -> float:
        return float(gamma_gamma.value_over_months(
            PARAMS, [50.0], [3], [30.0], [38.0], unit_days=7, months=months,
            monthly_discount=discount)[0])
    assert 0 < value(6, 0.01) < value(12, 0.01) < value(12, 0.0)


def test_a_fit_the_data_cannot_identify_fails_instead_of_returning_nonsense() -> None:
    with pytest.raises(bgnbd.FitFailed):
        bgnbd.fit([0, 0, 0], [0, 0, 0], [5.0, 6.0, 7.0])
    with pytest.raises(bgnbd.FitFailed):
        gamma_gamma.fit([0, 0], [0.0, 0.0])
