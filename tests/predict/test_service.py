"""Fitting and storing the scores, reading them back, the KPI outlook, and the command."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from db.core.access import PermissionDenied
from db.models import AuditEvent
from db.predict import service
from db.predict.__main__ import main
from db.predict.histories import Kind
from db.predict.models import CustomerPrediction, PredictionFit
from db.predict.outlook import outlook
from db.predict.scores import customer_scores
from tests.factories import ADMIN, MANAGER, MARKETING, customer, order
from tests.predict.conftest import at_noon, population

AS_OF = date(2026, 11, 30)


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def edges(engine: Engine) -> dict[str, int]:
    ids = {"none": customer(engine, "No", "Orders").id,
           "refunds": customer(engine, "Only", "Refunds").id,
           "one": customer(engine, "One", "Order").id,
           "same_day": customer(engine, "Same", "Day").id}
    order(engine, ids["refunds"], "-20.00", ordered_at=at_noon(date(2026, 10, 1)))
    order(engine, ids["one"], "30.00", ordered_at=at_noon(date(2026, 9, 1)))
    for amount in ("10.00", "25.00"):
        order(engine, ids["same_day"], amount, ordered_at=at_noon(date(2026, 8, 2)))
    return {name: int(value) for name, value in ids.items() if value is not None}


def test_a_fit_scores_every_live_customer_and_is_audited(
        engine: Engine, edges: dict[str, int]) -> None:
    ids = population(engine, 150, as_of=AS_OF)
    fit = service.fit_and_store(ADMIN, as_of=AS_OF, engine=engine)
    assert fit.customers_scored == 154 and fit.buyers == 152 and fit.repeat_buyers >= 20
    assert fit.monthly_discount == 0.01 and fit.unit == "weeks" and fit.as_of == AS_OF
    assert fit.holdout is not None and fit.holdout.customers > 0
    assert fit.holdout.actual_total == sum(group.actual for group in fit.holdout.groups)
    assert service.latest_fit(MARKETING, engine=engine) == fit
    assert fit.age_text(fit.fitted_at + timedelta(days=12, hours=3)) == "fitted 12 days ago"
    assert fit.age_text(fit.fitted_at) == "fitted today"
    assert _count(engine, CustomerPrediction) == 154
    with Session(engine) as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "predict.fit")).one()
    assert event.actor == "ada" and json.loads(event.changes)["customers_scored"] == 154

    scores = [customer_scores(MARKETING, i, engine=engine) for i in ids]
    assert all(s is not None and 0 <= (s.p_alive or 0) <= 1 for s in scores)
    repeat = next(s for s in scores if s is not None and s.kind == Kind.REPEAT)
    assert repeat.value_12m is not None and repeat.value_12m >= 0
    assert "chance still active" in repeat.p_alive_text
    assert "expected in the next 90 days" in repeat.purchases_text
    assert "expected over 12 months" in repeat.value_text

    none = customer_scores(MARKETING, edges["none"], engine=engine)
    refunds = customer_scores(MARKETING, edges["refunds"], engine=engine)
    assert none is not None and none.kind == Kind.NO_ORDERS and none.p_alive is None
    assert none.value_12m is None and "No purchase yet" in none.p_alive_text
    assert refunds is not None and refunds.kind == Kind.REFUNDS_ONLY
    assert "Only refunds" in refunds.value_text and refunds.expected_purchases_90d is None
    for name in ("one", "same_day"):
        one = customer_scores(MARKETING, edges[name], engine=engine)
        assert one is not None and one.kind == Kind.ONE_PURCHASE and one.p_alive == 1.0
        assert one.expected_purchases_90d is not None and one.expected_purchases_90d > 0
        assert "one purchase so far" in one.p_alive_text
        assert "the average customer's" in one.value_text
    # Both one-purchase customers spend the population mean: the same expected spend.
    pair = [customer_scores(ADMIN, edges[name], engine=engine) for name in ("one", "same_day")]
    assert pair[0] is not None and pair[1] is not None
    assert pair[0].expected_spend == pytest.approx(pair[1].expected_spend)

    newcomer = customer(engine, "New", "Since").id
    assert newcomer is not None and customer_scores(ADMIN, newcomer, engine=engine) is None

    view = outlook(MANAGER, engine=engine)
    assert view is not None and view.scored == 152 and view.not_scored == 3
    assert view.revenue_90d_low <= view.revenue_90d <= view.revenue_90d_high
    assert view.revenue_90d > 0
    assert sum(band.customers for band in view.bands) == 152
    with Session(engine) as session:
        rows = session.scalars(select(CustomerPrediction).where(
            col(CustomerPrediction.p_alive).is_not(None))).all()
    assert view.revenue_90d == pytest.approx(sum(
        (r.expected_purchases_90d or 0) * (r.expected_spend or 0) for r in rows), rel=1e-6)
    assert sum(band.at_risk for band in view.bands) == sum(
        1 for r in rows if (r.p_alive or 0) < view.at_risk_below)
    assert sum(band.value_12m for band in view.bands) == pytest.approx(
        sum(r.value_12m or 0 for r in rows), abs=0.05)


def test_a_refit_replaces_the_scores(engine: Engine) -> None:
    population(engine, 120, as_of=AS_OF)
    first = service.fit_and_store(ADMIN, as_of=AS_OF, holdout=False, engine=engine)
    second = service.fit_and_store(ADMIN, as_of=AS_OF, monthly_discount=0.0, holdout=False,
                                   engine=engine)
    assert second.id != first.id and second.holdout is None
    assert _count(engine, CustomerPrediction) == 120 and _count(engine, PredictionFit) == 2
    with Session(engine) as session:
        assert set(session.scalars(select(CustomerPrediction.fit_id))) == {second.id}


def test_too_little_data_is_refused_and_keeps_the_earlier_scores(
        engine: Engine, edges: dict[str, int]) -> None:
    with pytest.raises(service.NotEnoughData, match="Too little data") as refused:
        service.fit_and_store(ADMIN, as_of=AS_OF, engine=engine)
    assert "Nothing was stored" in str(refused.value)
    assert _count(engine, CustomerPrediction) == 0 and _count(engine, PredictionFit) == 0
    assert service.latest_fit(ADMIN, engine=engine) is None
    assert outlook(ADMIN, engine=engine) is None


def test_only_admins_fit_and_only_kpi_roles_see_the_outlook(engine: Engine) -> None:
    for actor in (MANAGER, MARKETING):
        with pytest.raises(PermissionDenied):
            service.fit_and_store(actor, engine=engine)
    with pytest.raises(PermissionDenied):
        outlook(MARKETING, engine=engine)
    assert _count(engine, PredictionFit) == 0


def test_the_command_fits_and_prints_the_summary(
        engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["fit"]) == 1  # an empty database: too little data, nothing stored
    assert "Too little data" in capsys.readouterr().err
    population(engine, 120, as_of=AS_OF)
    assert main(["fit", "--as-of", AS_OF.isoformat(), "--unit", "days"]) == 0
    out = capsys.readouterr().out
    assert "BG/NBD: r=" in out and "Holdout check" in out and "120" in out
    assert main(["fit", "--unit", "fortnights"]) == 2
