"""The Segments page: build a two-group segment with a live preview, save it, manage it."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, func, select
from streamlit.testing.v1 import AppTest

from dashboard.segment_editor import WIN_BACK
from db.core.access import Actor
from db.customers import profile
from db.customers.service import create_customer
from db.predict.models import CustomerPrediction
from db.segments import service, sizes
from db.segments.definition import Condition, Group
from tests.pages.conftest import ROOT
from tests.pages.predictions import fitted

SEGMENTS_PAGE = str(ROOT / "pages" / "segments.py")
ADMIN = Actor("admin", "admin")


def _people(engine: Engine) -> None:
    for first, country, city in (("Anna", "DE", "Berlin"), ("Ben", "DE", "Hamburg"),
                                 ("Chloé", "FR", "Paris"), ("Dan", "GB", "Leeds")):
        # Dan has no address, so his consent does not make him emailable.
        email = None if first == "Dan" else f"{first.lower()}@example.com"
        customer = create_customer(ADMIN, {"first_name": first, "last_name": "Test",
                                           "country": country, "city": city,
                                           "email": email}, engine=engine, confirm=True)
        if first != "Ben":
            profile.record_consent(ADMIN, customer.id, purpose="email_marketing",
                                   granted=True, source="form", notice_version="v1",
                                   engine=engine)


def _open(signed_in: Callable[[str], AppTest], role: str) -> AppTest:
    at = signed_in(role)
    at.switch_page(SEGMENTS_PAGE).run()
    assert not at.exception, at.exception
    return at


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _button(at: AppTest, label: str, nth: int = 0):
    return [b for b in at.button if b.label == label][nth]


def test_build_two_groups_preview_and_save(signed_in: Callable[[str], AppTest],
                                           app_db: Engine) -> None:
    _people(app_db)
    at = _open(signed_in, "marketing")
    # The first condition: country is one of DE, FR.
    at.selectbox(key="n2:op:country").select("in").run()
    at.multiselect(key="n2:country:in").select("DE").select("FR").run()
    assert _metric(at, "Members") == "3"
    assert _metric(at, "Emailable") == "2"
    # A nested ANY group (n3), which comes with a condition (n4): city contains "BER".
    at.button(key="n1:addgroup").click().run()
    assert at.radio(key="n3:match").value == "any"
    at.selectbox(key="n4:field").select("city").run()
    at.selectbox(key="n4:op:city").select("contains").run()
    at.text_input(key="n4:city:contains").input("BER").run()
    assert not at.exception, at.exception
    assert _metric(at, "Members") == "1"
    assert not at.warning

    name = next(t for t in at.text_input if t.label == "Name")
    name.input("Berliners")
    at.button(key="FormSubmitter:segment_save-Save segment").click().run()
    assert not at.exception, at.exception
    assert any("Saved “Berliners”" in s.value for s in at.success), (
        [e.value for e in at.error], [b.key for b in at.button])
    saved = sizes.list_segments(ADMIN, engine=app_db)
    assert [(row.name, row.size, row.owner) for row in saved] == [("Berliners", 1, "marketing")]
    definition = service.definition_of(service.get_segment(ADMIN, saved[0].id,
                                                           engine=app_db))
    assert definition.children[0].op == "in" and definition.children[1].match == "any"


def test_invalid_input_is_flagged_and_not_evaluated(signed_in: Callable[[str], AppTest],
                                                    app_db: Engine) -> None:
    _people(app_db)
    at = _open(signed_in, "marketing")
    at.selectbox(key="n2:field").select("order_count").run()
    at.selectbox(key="n2:op:order_count").select("between").run()
    at.number_input(key="n2:order_count:between:low").set_value(5).run()
    at.number_input(key="n2:order_count:between:high").set_value(2).run()
    assert any("lowest value is above the highest" in e.value for e in at.error), (
        [e.value for e in at.error], [n.key for n in at.number_input])
    assert any("Fix the 1 marked condition" in w.value for w in at.warning)
    assert not [m for m in at.metric if m.label == "Members"]
    assert at.button(key="FormSubmitter:segment_save-Save segment").disabled


def test_a_new_condition_asks_for_a_value_and_start_over_asks_first(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    _people(app_db)
    at = _open(signed_in, "marketing")
    # Nothing typed yet: a hint beside the condition, not an error, and no count.
    assert not at.error, [e.value for e in at.error]
    assert any("Give a value" in c.value for c in at.caption)
    assert any("Give each condition a value" in i.value for i in at.info)
    assert not [m for m in at.metric if m.label == "Members"]
    at.selectbox(key="n2:op:country").select("in").run()
    at.multiselect(key="n2:country:in").select("DE").run()
    assert _metric(at, "Members") == "2"
    # "Start over" only opens a question; the definition goes with the confirmation.
    assert not [b for b in at.button if b.label == "Start over"]
    at.button(key="segment_start_over").click().run()
    assert not at.exception, at.exception
    assert not [m for m in at.metric if m.label == "Members"]
    # A fresh condition (new widget keys) with the default operator.
    assert [box.value for box in at.selectbox
            if (box.key or "").endswith(":op:country")] == ["eq"]


def test_duplicating_selects_the_copy(signed_in: Callable[[str], AppTest],
                                      app_db: Engine) -> None:
    _people(app_db)
    original = service.save_segment(Actor("marketing", "marketing"), name="Germans",
                                    description=None, kind="dynamic",
                                    definition=Group(children=[
                                        Condition(field="country", op="eq", value="DE")]),
                                    engine=app_db)
    at = _open(signed_in, "marketing")
    at.segmented_control(key="segments_view").set_value("Saved segments").run()
    assert at.selectbox(key="segments_chosen").value == original.id
    _button(at, "Duplicate").click().run()
    assert not at.exception, at.exception
    assert len(at.dataframe[0].value) == 2
    chosen = at.selectbox(key="segments_chosen").value
    assert chosen != original.id
    assert service.get_segment(ADMIN, chosen).name.startswith("Germans")


def test_saved_list_open_and_delete(signed_in: Callable[[str], AppTest],
                                    app_db: Engine) -> None:
    _people(app_db)
    service.save_segment(Actor("marketing", "marketing"), name="Germans", description="DE",
                         kind="dynamic", definition=Group(children=[
                             Condition(field="country", op="eq", value="DE")]),
                         engine=app_db)
    at = _open(signed_in, "marketing")
    at.segmented_control(key="segments_view").set_value("Saved segments").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert list(table["Name"]) == ["Germans"] and list(table["Members"]) == [2]
    _button(at, "Open in builder").click().run()
    assert not at.exception, at.exception
    assert at.segmented_control(key="segments_view").value == "Builder"
    assert _metric(at, "Members") == "2"
    assert any("Editing “Germans”" in i.value for i in at.info)


def test_manager_can_build_and_marketing_cannot_export_everyone(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    _people(app_db)
    service.save_segment(ADMIN, name="All", description=None, kind="dynamic",
                         definition=Group(), engine=app_db)
    at = _open(signed_in, "marketing")
    at.segmented_control(key="segments_view").set_value("Saved segments").run()
    assert not [c for c in at.checkbox if "without" in c.label]
    _button(at, "Prepare export").click().run()
    assert not at.exception, at.exception
    manager = _open(signed_in, "manager")
    assert not manager.exception


def _keys(node) -> set[str]:
    """The widget keys inside an AppTest block (or the key of one element)."""
    if hasattr(node, "children"):
        return set().union(*(_keys(child) for child in node.children.values()))
    return {node.key} if getattr(node, "key", None) else set()


def _innermost(node, key: str):
    """The deepest block holding ``key``'s widget."""
    for child in getattr(node, "children", {}).values():
        if hasattr(child, "children") and key in _keys(child):
            return _innermost(child, key)
    return node


def test_a_condition_and_its_window_share_one_box(signed_in: Callable[[str], AppTest],
                                                  app_db: Engine) -> None:
    at = _open(signed_in, "marketing")
    at.selectbox(key="n2:field").select("order_count").run()
    at.button(key="n1:add").click().run()  # a second condition (n3) below it
    box = _innermost(at.main, "n2:field")
    while "n2:order_count:when" not in _keys(box):  # climb out of the field's column
        box = next(block for block in _blocks(at.main) if box in block.children.values())
    assert "n3:field" not in _keys(box)  # the box is the condition's, not the group's
    assert box.proto.flex_container.border


def _blocks(node):
    for child in getattr(node, "children", {}).values():
        if hasattr(child, "children"):
            yield child
            yield from _blocks(child)


def _popover_disabled(at: AppTest, label: str) -> bool:
    popover, = [block.proto.popover for block in _blocks(at.main)
                if block.proto.DESCRIPTOR.name == "Block" and block.proto.HasField("popover")
                and block.proto.popover.label == label]
    return popover.disabled


def test_delete_is_offered_to_whom_the_service_allows(signed_in: Callable[[str], AppTest],
                                                      app_db: Engine) -> None:
    service.save_segment(Actor("marketing", "marketing"), name="Mine", description=None,
                         kind="dynamic", definition=Group(), engine=app_db)
    for role, offered in (("marketing", True), ("manager", False), ("admin", True)):
        at = _open(signed_in, role)
        at.segmented_control(key="segments_view").set_value("Saved segments").run()
        assert not at.exception, at.exception
        assert _popover_disabled(at, "Delete") is not offered, role


def test_win_back_list_in_two_clicks(signed_in: Callable[[str], AppTest],
                                     app_db: Engine) -> None:
    """One click fills the builder with the win-back conditions (the preview counts them
    from the newest fit's scores), the second saves them."""
    fitted(app_db)
    with app_db.connect() as connection:
        expected = connection.execute(select(func.count()).select_from(CustomerPrediction)
                                      .where(CustomerPrediction.p_alive < 0.3,
                                             CustomerPrediction.value_12m > 500)).scalar_one()
    at = _open(signed_in, "manager")
    _button(at, "Win-back list").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.selectbox if s.label == "Field"] == ["p_alive", "value_12m"]
    assert [n.value for n in at.number_input] == [0.3, 500.0]
    assert any("matches no comparison" in c.value for c in at.caption)
    assert _metric(at, "Members") == f"{expected:,}"
    with app_db.connect() as connection:
        at_risk = connection.execute(select(func.count()).select_from(CustomerPrediction)
                                     .where(CustomerPrediction.p_alive < 0.3,
                                            CustomerPrediction.value_12m > 0)).scalar_one()
    at.number_input[1].set_value(0.0).run()
    assert at_risk > 0 and _metric(at, "Members") == f"{at_risk:,}"
    at.number_input[1].set_value(500.0).run()
    next(t for t in at.text_input if t.label == "Name").input("Win-back")
    at.button(key="FormSubmitter:segment_save-Save segment").click().run()
    assert not at.exception, at.exception
    saved = sizes.list_segments(ADMIN, engine=app_db)
    assert [(row.name, row.size) for row in saved] == [("Win-back", expected)]
    assert service.definition_of(service.get_segment(ADMIN, saved[0].id)) == WIN_BACK


def test_a_second_duplicate_click_selects_the_copy_the_first_made(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    marketing = Actor("marketing", "marketing")
    original = service.save_segment(marketing, name="Germans", description=None,
                                    kind="dynamic", definition=Group(children=[
                                        Condition(field="country", op="eq", value="DE")]),
                                    engine=app_db)
    copy = service.duplicate_segment(marketing, original.id, engine=app_db)  # the first click
    at = _open(signed_in, "marketing")
    at.segmented_control(key="segments_view").set_value("Saved segments").run()
    at.selectbox(key="segments_chosen").set_value(original.id).run()
    _button(at, "Duplicate").click().run()
    assert not at.exception, at.exception
    assert len(service.segment_names(marketing, engine=app_db)) == 2
    assert len(at.dataframe[0].value) == 2
    assert at.selectbox(key="segments_chosen").value == copy.id
    assert "no second copy" in at.success[0].value
    assert not at.error


def test_a_cleared_number_stays_empty_and_is_not_previewed(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    """Clearing a number brought back the one typed before the last: the field was drawn with
    the draft of the run before as its default, which Streamlit returns for an emptied field,
    and the preview and Save went on with it."""
    at = _open(signed_in, "marketing")
    _button(at, "Win-back list").click().run()
    for index, typed in ((1, (250.0, 300.0)), (0, (0.4, 0.5))):  # 12-month value, p_alive
        for value in (*typed, None):
            at.number_input[index].set_value(value).run()
        assert at.number_input[index].value is None
    assert sum("Give a number" in c.value for c in at.caption) == 2
    assert not [m for m in at.metric if m.label == "Members"]
    assert at.button(key="FormSubmitter:segment_save-Save segment").disabled


def test_every_number_of_a_condition_can_be_emptied(signed_in: Callable[[str], AppTest],
                                                     app_db: Engine) -> None:
    at = _open(signed_in, "marketing")
    for field, op, key, typed in (
            ("total_spend", "gt", "n2:total_spend:gt", (250.0, 300.0)),
            ("age", "between", "n2:age:between:low", (30, 40)),
            ("first_order", "in_last_days", "n2:first_order:in_last_days", (7, 14)),
            ("order_count", "ge", "n2:order_count:ge", (2, 3))):
        at.selectbox(key="n2:field").select(field).run()
        at.selectbox(key=f"n2:op:{field}").select(op).run()
        for value in (*typed, None):
            at.number_input(key=key).set_value(value).run()
        assert at.number_input(key=key).value is None, field
        assert any(c.value.startswith("Give a") for c in at.caption), field
        assert not [m for m in at.metric if m.label == "Members"], field
    # The window's days and "at least K times" are flagged, not taken as 90 days or once.
    at.number_input(key="n2:order_count:ge").set_value(2).run()
    at.selectbox(key="n2:order_count:when").select("last_days").run()
    for value in (30, 60, None):
        at.number_input(key="n2:order_count:days").set_value(value).run()
    assert at.number_input(key="n2:order_count:days").value is None
    assert any("window must be 1 to" in e.value for e in at.error)
    at.selectbox(key="n2:field").select("category").run()
    at.text_input(key="n2:category:has_any").input("Books").run()  # no orders: no pick list
    for value in (2, 3, None):
        at.number_input(key="n2:category:times").set_value(value).run()
    assert at.number_input(key="n2:category:times").value is None
    assert any("“At least” must be" in e.value for e in at.error)
    assert at.button(key="FormSubmitter:segment_save-Save segment").disabled


def _country_operator(at: AppTest):
    """The operator of the one country condition (a segment opened gets new node keys)."""
    boxes = [box for box in at.selectbox if (box.key or "").endswith(":op:country")]
    assert len(boxes) == 1
    return boxes[0]


def test_a_save_over_someone_elses_offers_their_version_and_keeps_the_draft(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    """The builder still holds the refused definition: it can be saved as new, or their
    version opened in its place (one click, not a page reload that would lose it)."""
    _people(app_db)
    marketing = Actor("marketing", "marketing")
    germans = service.save_segment(marketing, name="Germans", description="DE", kind="dynamic",
                                   definition=Group(children=[
                                       Condition(field="country", op="eq", value="DE")]),
                                   engine=app_db)
    at = _open(signed_in, "marketing")
    at.segmented_control(key="segments_view").set_value("Saved segments").run()
    _button(at, "Open in builder").click().run()
    service.update_segment(marketing, germans.id, expected_version=germans.version,
                           name="Germans", description="DE", kind="dynamic",
                           definition=Group(children=[
                               Condition(field="country", op="eq", value="FR")]),
                           engine=app_db)
    operator = _country_operator(at)
    operator.select("ne").run()  # theirs: FR; mine: not DE
    at.button(key="FormSubmitter:segment_save-Save changes").click().run()
    assert at.error[0].value.startswith("Someone saved this segment after you opened it")
    assert _country_operator(at).value == "ne"  # my definition is still here
    _button(at, "Open their version").click().run()
    assert not at.exception, at.exception
    assert _country_operator(at).value == "eq"
    assert [box.value for box in at.selectbox if (box.key or "").endswith(":country:eq")] == [
        "FR"]
    at.button(key="FormSubmitter:segment_save-Save changes").click().run()
    assert not at.error
    assert any(notice.value == "Saved “Germans”." for notice in at.success)
