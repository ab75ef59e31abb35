"""The segment builder's widgets, alone on a page: what each click does to the definition."""

from __future__ import annotations

from datetime import date
from typing import Any

from streamlit.testing.v1 import AppTest

from dashboard.text import plain


def _editor_page() -> None:
    """The editor on a draft of one condition, as the Segments page starts it; the definition
    it produces is left in ``st.session_state["definition"]`` for the test to read."""
    import streamlit as st

    from dashboard import segment_editor as editor

    if editor.DRAFT not in st.session_state:
        root = editor.new_group()
        root["children"].append(editor.new_condition())
        st.session_state[editor.DRAFT] = root
    draft = st.session_state[editor.DRAFT]
    options = {"country": ["DE", "FR"], "category": ["books", "wine"], "tags": ["vip"]}
    if editor.render(draft, options, {7: "Germans"}):
        st.rerun()
    st.session_state["definition"] = editor.to_definition(draft).model_dump(mode="json")


def _open() -> AppTest:
    at = AppTest.from_function(_editor_page, default_timeout=30).run()
    assert not at.exception, at.exception
    return at


def _definition(at: AppTest) -> dict[str, Any]:
    assert not at.exception, at.exception
    definition: dict[str, Any] = at.session_state["definition"]
    return definition


def _condition(at: AppTest, *path: int) -> dict[str, Any]:
    node = _definition(at)
    for index in path:
        node = node["children"][index]
    return node


def test_a_condition_is_added_and_removed() -> None:
    at = _open()
    assert [c["field"] for c in _definition(at)["children"]] == ["country"]
    at.button(key="n1:add").click().run()
    assert len(_definition(at)["children"]) == 2
    at.selectbox(key="n3:field").select("city").run()
    assert [c["field"] for c in _definition(at)["children"]] == ["country", "city"]
    at.button(key="n2:remove").click().run()  # the first one goes, the second stays
    assert [c["field"] for c in _definition(at)["children"]] == ["city"]
    assert "n2:field" not in [box.key for box in at.selectbox]


def test_changing_the_field_resets_operator_value_and_extras() -> None:
    at = _open()
    at.selectbox(key="n2:op:country").select("in").run()
    at.multiselect(key="n2:country:in").select("DE").select("FR").run()
    assert (_condition(at, 0)["op"], _condition(at, 0)["value"]) == ("in", ["DE", "FR"])
    at.selectbox(key="n2:field").select("order_count").run()
    at.selectbox(key="n2:order_count:when").select("last_days").run()
    at.selectbox(key="n2:field").select("city").run()
    condition = _condition(at, 0)
    assert (condition["field"], condition["op"], condition["value"], condition["window"]) == (
        "city", "eq", None, None)
    assert at.selectbox(key="n2:op:city").value == "eq"
    assert at.text_input(key="n2:city:eq").value == ""


def test_groups_match_all_or_any_can_be_negated_and_nested() -> None:
    at = _open()
    assert (_definition(at)["match"], _definition(at)["negate"]) == ("all", False)
    at.radio(key="n1:match").set_value("any").run()
    at.toggle(key="n1:negate").set_value(True).run()
    assert (_definition(at)["match"], _definition(at)["negate"]) == ("any", True)
    at.button(key="n1:addgroup").click().run()
    nested = _condition(at, 1)
    # The opposite of its parent, with a condition, since an empty ANY group matches nobody.
    assert (nested["type"], nested["match"], len(nested["children"])) == ("group", "all", 1)
    at.button(key="n3:remove").click().run()
    assert [child["type"] for child in _definition(at)["children"]] == ["condition"]
    assert "n1:remove" not in [button.key for button in at.button]


def test_window_inputs_write_the_window() -> None:
    at = _open()
    at.selectbox(key="n2:field").select("order_count").run()
    assert _condition(at, 0)["window"] is None  # "ever"
    at.selectbox(key="n2:order_count:when").select("last_days").run()
    assert _condition(at, 0)["window"] == {"kind": "last_days", "days": 90, "start": None,
                                           "end": None}
    at.number_input(key="n2:order_count:days").set_value(30).run()
    assert _condition(at, 0)["window"]["days"] == 30
    at.selectbox(key="n2:order_count:when").select("between").run()
    at.date_input(key="n2:order_count:between").set_value(
        (date(2026, 1, 1), date(2026, 3, 31))).run()
    assert _condition(at, 0)["window"] == {"kind": "between", "days": None,
                                           "start": "2026-01-01", "end": "2026-03-31"}
    at.selectbox(key="n2:order_count:when").select("ever").run()
    assert _condition(at, 0)["window"] is None


def test_at_least_k_times_and_interaction_kinds() -> None:
    at = _open()
    at.selectbox(key="n2:field").select("category").run()
    at.multiselect(key="n2:category:has_any").select("books").run()
    at.number_input(key="n2:category:times").set_value(3).run()
    assert _condition(at, 0)["min_count"] == 3
    at.selectbox(key="n2:op:category").select("has_none").run()
    assert _condition(at, 0)["min_count"] is None  # "has none of" counts no times
    assert "n2:category:times" not in [box.key for box in at.number_input]
    at.selectbox(key="n2:field").select("interactions").run()
    at.selectbox(key="n2:interactions:kind").select("call").run()
    assert _condition(at, 0)["kind"] == "call"


def test_money_is_kept_as_exact_text_and_problems_show_beside_the_condition() -> None:
    at = _open()
    assert any("Give a value" in caption.value for caption in at.caption)  # a hint
    assert not at.error
    at.selectbox(key="n2:field").select("total_spend").run()
    at.selectbox(key="n2:op:total_spend").select("ge").run()
    at.number_input(key="n2:total_spend:ge").set_value(49.9).run()
    assert _condition(at, 0)["value"] == "49.90"
    at.selectbox(key="n2:op:total_spend").select("between").run()
    at.number_input(key="n2:total_spend:between:low").set_value(100.0).run()
    at.number_input(key="n2:total_spend:between:high").set_value(20.0).run()
    assert _condition(at, 0)["value"] == ["100.00", "20.00"]
    assert [error.value for error in at.error] == [plain("The lowest value is above the highest.")]


def test_a_new_operator_keeps_the_values_it_can_take() -> None:
    """Turning "has any of" into "has none of", "is" into "is not" or "≥" into "≤" keeps what
    was chosen or typed; a value of another shape (a list for "between", days for "in the last
    N days") starts afresh."""
    at = _open()
    at.selectbox(key="n2:op:country").select("in").run()
    at.multiselect(key="n2:country:in").select("DE").select("FR").run()
    at.selectbox(key="n2:op:country").select("not_in").run()
    assert _condition(at, 0)["value"] == ["DE", "FR"]
    assert at.multiselect(key="n2:country:not_in").value == ["DE", "FR"]
    at.selectbox(key="n2:op:country").select("eq").run()  # one country, not a list
    assert _condition(at, 0)["value"] is None
    at.selectbox(key="n2:field").select("category").run()
    at.multiselect(key="n2:category:has_any").select("books").select("wine").run()
    at.selectbox(key="n2:op:category").select("has_none").run()
    assert _condition(at, 0)["value"] == ["books", "wine"]
    at.selectbox(key="n2:field").select("total_spend").run()
    at.selectbox(key="n2:op:total_spend").select("ge").run()
    at.number_input(key="n2:total_spend:ge").set_value(49.9).run()
    at.selectbox(key="n2:op:total_spend").select("le").run()
    assert _condition(at, 0)["value"] == "49.90"
    assert at.number_input(key="n2:total_spend:le").value == 49.9
    at.selectbox(key="n2:op:total_spend").select("between").run()
    assert _condition(at, 0)["value"] == [None, None]
    at.selectbox(key="n2:field").select("created").run()
    at.number_input(key="n2:created:in_last_days").set_value(45).run()
    at.selectbox(key="n2:op:created").select("more_than_days_ago").run()
    assert _condition(at, 0)["value"] == 45
    at.number_input(key="n2:created:more_than_days_ago").set_value(0).run()
    at.selectbox(key="n2:op:created").select("in_last_days").run()  # at least 1: emptied
    assert _condition(at, 0)["value"] is None
