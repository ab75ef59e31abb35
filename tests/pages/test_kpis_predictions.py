"""The KPI page's predictions section: revenue forecast with its range, value spread and
risk by band, each naming the fit; one line and no chart before the first fit."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from db.core import background
from db.predict import outlook as outlook_module
from db.predict.outlook import outlook
from tests.factories import MANAGER, customer
from tests.pages.conftest import ROOT, started_by_home
from tests.pages.predictions import fit, fitted, shop

KPI_PAGE = str(ROOT / "pages" / "kpis.py")
NO_FIT = "No predictions yet: the model has not been fitted"


def _open(signed_in: Callable[[str], AppTest], role: str) -> AppTest:
    at = signed_in(role)
    at.session_state["kpi_tab"] = "Predictions"
    at.switch_page(KPI_PAGE).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def _captions(at: AppTest) -> list[str]:
    return [c.value.replace("\\", "") for c in at.caption]


def test_no_fit_is_one_line_and_no_broken_chart(signed_in: Callable[[str], AppTest],
                                               app_db: Engine) -> None:
    shop(app_db)
    at = _open(signed_in, "manager")
    assert [i.value for i in at.info if i.value.startswith(NO_FIT)]
    assert "Predicted revenue, next 90 days" not in [m.label for m in at.metric]
    assert "An admin fits the model on the Predictions page." in _captions(at)
    charts_without = len(at.get("vega_lite_chart"))
    fit(app_db)
    at = _open(signed_in, "manager")
    assert len(at.get("vega_lite_chart")) == charts_without + 2
    assert not [i.value for i in at.info if i.value.startswith(NO_FIT)]


def test_forecast_range_and_bands_name_the_fit(signed_in: Callable[[str], AppTest],
                                              app_db: Engine) -> None:
    fitted(app_db)
    figures = outlook(MANAGER, engine=app_db)
    assert figures is not None and figures.revenue_90d > 0
    assert figures.revenue_90d_low < figures.revenue_90d < figures.revenue_90d_high
    at = _open(signed_in, "admin")
    metric = next(m for m in at.metric if m.label == "Predicted revenue, next 90 days")
    assert metric.value == f"€{figures.revenue_90d:,.0f}"
    captions = _captions(at)
    assert (f"Range €{figures.revenue_90d_low:,.0f} – €{figures.revenue_90d_high:,.0f} "
            "(about 90%).") in " ".join(captions)
    at_risk = sum(band.at_risk for band in figures.bands)
    assert any(c.startswith(f"{at_risk:,} customers with a probability active below 30%")
               for c in captions)
    # The section, the forecast, the value spread and the risk chart each name the fit.
    assert sum("Scores fitted today" in c for c in captions) == 4


def test_customers_added_since_the_fit_are_counted_as_unscored(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    made = fitted(app_db)
    for number in range(3):
        customer(app_db, "Late", f"Comer{number}")
    at = _open(signed_in, "manager")
    assert any(c.endswith(f"{made.buyers:,} customers with a purchase scored; "
                          f"{made.customers_scored - made.buyers + 3:,} without a purchase by "
                          "the fit's day, or added since.") for c in _captions(at))


def test_a_slow_outlook_fills_in_after_the_rest_of_the_page(
        signed_in: Callable[[str], AppTest], app_db: Engine,
        monkeypatch: pytest.MonkeyPatch) -> None:
    fitted(app_db)
    release = threading.Event()
    real = outlook_module.outlook

    def held(*args: Any, **kwargs: Any) -> outlook_module.Outlook | None:
        release.wait(20)  # as two passes over a million scores keep it waiting
        return real(*args, **kwargs)

    monkeypatch.setattr(outlook_module, "outlook", held)
    monkeypatch.setattr(background, "PAGE_WAIT_S", 0.0)
    at = _open(signed_in, "manager")
    assert [i.value for i in at.info if i.value.startswith("Computing the predictions outlook")]
    assert "Revenue" in [m.label for m in at.metric]  # the KPI figures are all there
    assert "Predicted revenue, next 90 days" not in [m.label for m in at.metric]
    release.set()
    monkeypatch.setattr(background, "PAGE_WAIT_S", 20.0)
    at.run()  # what the section's poll does once the outlook is computed
    assert "Predicted revenue, next 90 days" in [m.label for m in at.metric]
    assert not [i.value for i in at.info if i.value.startswith("Computing")]


def test_home_starts_the_outlook_the_kpi_page_shows(
        app_db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    fitted(app_db)
    computed: list[str] = []
    real = outlook_module.outlook

    def counted(actor: Any, **kwargs: Any) -> outlook_module.Outlook | None:
        computed.append(actor.username)
        return real(actor, **kwargs)

    monkeypatch.setattr(outlook_module, "outlook", counted)
    at = started_by_home("manager", computed)  # before anyone opened the KPI page
    assert computed == ["manager"], "home did not start the predictions outlook"
    at.session_state["kpi_tab"] = "Predictions"
    at.switch_page(KPI_PAGE).run()
    assert "Predicted revenue, next 90 days" in [m.label for m in at.metric]
    assert computed == ["manager"]
