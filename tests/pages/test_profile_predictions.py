"""The profile's prediction panel: the three scores with the service's explanations and the
fit's age, and defined wording for every kind of customer, before and after a fit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from db.predict.scores import NOT_SCORED, customer_scores
from tests.factories import MANAGER, customer, order
from tests.pages.conftest import open_profile
from tests.pages.predictions import as_of, fitted
from tests.predict.conftest import at_noon


def _captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def _unescaped(text: str) -> str:
    return text.replace("\\", "")


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_before_any_fit_the_panel_says_so(signed_in: Callable[[str], AppTest],
                                          app_db: Engine) -> None:
    someone = customer(app_db, "Nora", "Nofit").id
    assert someone is not None
    at = open_profile(signed_in, "admin", someone)
    assert any(i.value == "No predictions yet: the model has not been fitted." for i in at.info)
    assert "Probability active" not in _metrics(at)
    links = at.get("page_link")
    assert any("Predictions page" in link.proto.label for link in links)
    at = open_profile(signed_in, "marketing", someone)
    assert "An admin fits the model on the Predictions page." in _captions(at)


def test_scores_with_their_explanations_for_every_kind_of_customer(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    day = as_of()
    ids = {name: customer(app_db, name.title(), "Edge").id
           for name in ("none", "refunds", "one", "same_day", "repeat")}
    order(app_db, ids["refunds"], "-20.00", ordered_at=at_noon(day - timedelta(days=40)))
    order(app_db, ids["one"], "30.00", ordered_at=at_noon(day - timedelta(days=60)))
    for amount in ("10.00", "25.00"):
        order(app_db, ids["same_day"], amount, ordered_at=at_noon(day - timedelta(days=20)))
    for days in (200, 120, 30):
        order(app_db, ids["repeat"], "45.00", ordered_at=at_noon(day - timedelta(days=days)))
    fitted(app_db)
    ids["added_since"] = customer(app_db, "Late", "Comer").id
    for name in ("one", "same_day", "repeat"):
        scores = customer_scores(MANAGER, int(ids[name] or 0), engine=app_db)
        assert scores is not None and scores.p_alive is not None
        at = open_profile(signed_in, "manager", int(ids[name] or 0))
        metrics = _metrics(at)
        assert metrics["Probability active"] == f"{scores.p_alive:.0%}"
        assert metrics["Expected purchases (90 days)"] == (
            f"{scores.expected_purchases_90d:.2f}")
        assert metrics["12-month value"] == f"€{scores.value_12m:,.2f}"
        shown = [_unescaped(c) for c in _captions(at)]
        for text in (scores.p_alive_text, scores.purchases_text, scores.value_text):
            assert text in shown, (name, text)
        assert any("Scores fitted today" in c for c in shown)
    for name in ("none", "refunds"):
        scores = customer_scores(MANAGER, int(ids[name] or 0), engine=app_db)
        assert scores is not None and scores.p_alive is None
        at = open_profile(signed_in, "manager", int(ids[name] or 0))
        assert _metrics(at)["Probability active"] == "—"
        shown = [_unescaped(c) for c in _captions(at)]
        assert shown.count(scores.p_alive_text) == 1  # one reason, said once
    at = open_profile(signed_in, "manager", int(ids["added_since"] or 0))
    assert any(_unescaped(i.value) == NOT_SCORED for i in at.info)
    assert "Probability active" not in _metrics(at)
