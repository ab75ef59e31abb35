"""The Predictions page: the model check a manager reads, and the admins' refit, which
starts one fit however often it is clicked and says when the data are too few."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, func, select
from streamlit.testing.v1 import AppTest

from dashboard import refit
from db.models import AuditEvent
from db.predict.models import PredictionFit
from db.predict.service import latest_fit
from tests.factories import MANAGER, customer, order
from tests.pages.conftest import ROOT
from tests.pages.predictions import fitted

PAGE = str(ROOT / "pages" / "predictions.py")


def _open(signed_in: Callable[[str], AppTest], role: str) -> AppTest:
    at = signed_in(role)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _fits(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(PredictionFit)).scalar_one()


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_manager_sees_the_check_parameters_and_age_but_no_refit(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    fit = fitted(app_db)
    check = fit.holdout
    assert check is not None
    at = _open(signed_in, "manager")
    metrics = _metrics(at)
    assert metrics["Fitted"] == "today"
    assert metrics["Customers scored"] == f"{fit.customers_scored:,}"
    assert metrics["Predicted purchases"] == f"{check.predicted_total:,.1f}"
    assert metrics["Actual purchases"] == f"{check.actual_total:,}"
    assert metrics["Error of the total"] == f"{check.total_error_pct:+.1f}%"
    assert len(at.get("vega_lite_chart")) == 1
    groups, parameters = (frame.value for frame in at.dataframe)
    assert list(groups["Actual"]) == [group.actual for group in check.groups]
    assert list(parameters["Value"])[:4] == [fit.bgnbd.r, fit.bgnbd.alpha, fit.bgnbd.a,
                                             fit.bgnbd.b]
    assert not [b for b in at.button if b.label == "Refit now"]
    assert "An admin refits the model here." in [c.value for c in at.caption]


def test_marketing_is_refused(signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    at = _open(signed_in, "marketing")
    assert "does not give access" in at.error[0].value


def test_admin_refits_once_however_often_clicked(signed_in: Callable[[str], AppTest],
                                                 app_db: Engine) -> None:
    fitted(app_db)
    first = latest_fit(MANAGER, engine=app_db)
    assert first is not None
    at = _open(signed_in, "admin")
    # The fit just made counts as the click before this one: refused, nothing started.
    at.button(key="predictions_refit").click().run()
    assert "no second fit was started" in at.warning[0].value
    assert _fits(app_db) == 1
    # A fit running elsewhere in this server: refused too.
    with app_db.begin() as connection:  # make the stored fit old enough to refit
        connection.execute(PredictionFit.__table__.update().values(
            fitted_at=first.fitted_at.replace(year=first.fitted_at.year - 1)))
    assert refit._LOCK.acquire(blocking=False)
    refit.RUNNING.update(by="other-admin")
    try:
        at.button(key="predictions_refit").click().run()
        assert "A fit is already running \\(started by other" in at.warning[0].value
    finally:
        refit.RUNNING.clear()
        refit._LOCK.release()
    assert _fits(app_db) == 1
    at.button(key="predictions_refit").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value.startswith("Fitted: ")
    assert _fits(app_db) == 2
    assert _metrics(at)["Fitted"] == "today"
    at.button(key="predictions_refit").click().run()  # the double click's second click
    assert "no second fit was started" in at.warning[0].value
    assert _fits(app_db) == 2
    with app_db.connect() as connection:
        audited = connection.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "predict.fit")).scalar_one()
    assert audited == 2


def test_too_little_data_says_so_and_stores_nothing(signed_in: Callable[[str], AppTest],
                                                   app_db: Engine) -> None:
    order(app_db, int(customer(app_db, "Only", "One").id or 0), "20.00")
    at = _open(signed_in, "admin")
    assert "No predictions yet" in at.info[0].value
    at.button(key="predictions_refit").click().run()
    assert not at.exception, at.exception
    assert "Too little data to fit the model" in at.error[0].value
    assert "Nothing was stored" in at.error[0].value
    assert _fits(app_db) == 0
