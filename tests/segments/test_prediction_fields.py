"""The prediction score fields of the segment builder: the compiler against the reference
evaluator, on every engine, with customers scored, scored without a figure (no purchase)
and not scored at all (added after the fit)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from db.core.sql import table_of
from db.predict.models import CustomerPrediction, PredictionFit
from db.segments.compiler import members
from db.segments.definition import Condition, Group, InvalidDefinition, condition_problem
from tests.factories import customer
from tests.segments.reference import Reference, load

AS_OF = datetime(2026, 11, 30, tzinfo=UTC)
# (p_alive, expected purchases in 90 days, 12-month value); None: no purchase yet.
SCORES = {"lapsed_rich": (0.12, 0.05, 820.0), "lapsed_poor": (0.2, 0.1, 90.0),
          "edge": (0.3, 0.8, 500.0), "loyal_rich": (0.95, 2.4, 1500.0),
          "no_purchase": (None, None, None)}


@pytest.fixture
def scored(engine: Engine) -> dict[str, int]:
    ids = {name: int(customer(engine, name.title()).id or 0)
           for name in [*SCORES, "added_since"]}
    with engine.begin() as connection:
        fit_id = connection.execute(table_of(PredictionFit).insert().values(
            fitted_at=AS_OF, fitted_by="ada", unit="weeks", as_of=date(2026, 11, 30),
            params="{}", customers_scored=5, buyers=4, repeat_buyers=3, monthly_discount=0.01,
            seconds=0.1)).inserted_primary_key[0]
        connection.execute(table_of(CustomerPrediction).insert(), [
            {"customer_id": ids[name], "fit_id": fit_id, "kind": 0 if p is None else 3,
             "repeat_purchases": 0 if p is None else 2, "p_alive": p,
             "expected_purchases_90d": n, "expected_spend": None if p is None else 40.0,
             "value_12m": v}
            for name, (p, n, v) in SCORES.items()])
    return ids


def _members(engine: Engine, *conditions: Condition) -> set[int]:
    tree = Group(children=list(conditions))
    with engine.connect() as connection:
        got = set(connection.execute(members(tree, as_of=AS_OF,
                                             resolve=lambda _: None)).scalars())
    assert got == Reference(load(engine), AS_OF).members(tree), tree.model_dump_json()
    return got


def test_win_back_list_is_at_risk_and_valuable(engine: Engine, scored: dict[str, int]) -> None:
    got = _members(engine, Condition(field="p_alive", op="lt", value=0.3),
                   Condition(field="value_12m", op="gt", value=500))
    assert got == {scored["lapsed_rich"]}


@pytest.mark.parametrize(("field", "op", "value"), [
    ("p_alive", "le", 0.3), ("p_alive", "ge", 0.3), ("p_alive", "gt", 0),
    ("p_alive", "between", [0.2, 0.3]), ("expected_purchases_90d", "lt", 1),
    ("expected_purchases_90d", "between", [0, 100]), ("value_12m", "ge", 500),
    ("value_12m", "le", 500.5), ("value_12m", "is_known", None),
    ("p_alive", "is_unknown", None)])
def test_score_fields_match_the_reference(engine: Engine, scored: dict[str, int], field: str,
                                          op: str, value: object) -> None:
    got = _members(engine, Condition(field=field, op=op, value=value))
    if op == "is_unknown":  # no purchase, and added since the fit
        assert got == {scored["no_purchase"], scored["added_since"]}
    elif op != "is_known":  # a customer without a score matches no comparison
        assert not got & {scored["no_purchase"], scored["added_since"]}


def test_negated_comparison_includes_the_unscored(engine: Engine,
                                                 scored: dict[str, int]) -> None:
    """NOT (probability active below 0.3) is the exact complement, unscored included."""
    tree = Group(negate=True, children=[Condition(field="p_alive", op="lt", value=0.3)])
    with engine.connect() as connection:
        got = set(connection.execute(members(tree, as_of=AS_OF,
                                             resolve=lambda _: None)).scalars())
    assert got == Reference(load(engine), AS_OF).members(tree)
    assert {scored["no_purchase"], scored["added_since"]} <= got


def test_bad_score_values_are_named() -> None:
    def problem(**fields: object) -> str | None:
        return condition_problem(Condition(**fields))

    assert problem(field="p_alive", op="lt", value=1.5) == (
        "Probability active must be from 0 to 1.")
    assert problem(field="p_alive", op="lt", value="0.3") == (
        "Probability active must be a number.")
    assert problem(field="value_12m", op="between", value=[600, 500]) == (
        "The lowest value is above the highest.")
    assert problem(field="value_12m", op="gt", value=None) == "Give a number."
    assert problem(field="p_alive", op="eq", value=0.3) == (
        "Probability active cannot be compared with “equals”.")
    assert problem(field="p_alive", op="lt", value=0.3) is None
    with pytest.raises(InvalidDefinition):
        members(Group(children=[Condition(field="value_12m", op="gt", value=float("nan"))]),
                as_of=AS_OF, resolve=lambda _: None)
