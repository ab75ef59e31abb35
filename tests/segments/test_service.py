"""Saving, editing, duplicating and deleting segments, who may change them, with their audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from db.audit import recent
from db.core.access import Actor, PermissionDenied
from db.segments import preview, service, sizes
from db.segments.definition import Condition, Group, InvalidDefinition
from db.segments.membership import SegmentError
from tests.factories import ADMIN, MANAGER, MARKETING
from tests.segments.common import GERMANS, OTHER_MARKETING, events


def test_save_edit_duplicate_delete_are_audited(engine: Engine, people: dict) -> None:
    saved = service.save_segment(MARKETING, name="  Germans ", description="DE only",
                                 kind="dynamic", definition=GERMANS, engine=engine)
    assert saved.name == "Germans" and saved.owner == MARKETING.username
    with pytest.raises(SegmentError, match="already exists"):
        service.save_segment(MARKETING, name="germans", description=None, kind="dynamic",
                             definition=GERMANS, engine=engine)
    everyone = Group(match="any", children=[GERMANS, Condition(field="country", op="eq",
                                                               value="FR")])
    edited = service.update_segment(MARKETING, saved.id, expected_version=saved.version,
                                    name="Germans and French", description="DE or FR",
                                    kind="dynamic", definition=everyone, engine=engine)
    with pytest.raises(SegmentError, match="after you opened it"):
        service.update_segment(MARKETING, saved.id, expected_version=saved.version,
                               name="Stale", description=None, kind="dynamic",
                               definition=GERMANS, engine=engine)
    with pytest.raises(PermissionDenied, match="owner"):
        service.delete_segment(OTHER_MARKETING, saved.id, engine=engine)
    copy = service.duplicate_segment(OTHER_MARKETING, saved.id, engine=engine)
    assert (copy.name, copy.owner) == ("Germans and French (copy)", OTHER_MARKETING.username)
    assert sizes.segment_size(MARKETING, copy.id, engine=engine) == 4
    service.delete_segment(OTHER_MARKETING, copy.id, engine=engine)

    (actor, entity_id, changes), = events(engine, "segment.update")
    assert (actor, entity_id) == (MARKETING.username, str(edited.id))
    assert changes["name"] == ["Germans", "Germans and French"] and "definition" in changes
    assert [c["name"] for _, _, c in events(engine, "segment.create")] == [
        "Germans", "Germans and French (copy)"]
    assert [(a, c["name"]) for a, _, c in events(engine, "segment.delete")] == [
        (OTHER_MARKETING.username, "Germans and French (copy)")]


def test_owner_or_administrator_may_change_and_the_service_asks_the_same(
        engine: Engine, people: dict) -> None:
    saved = service.save_segment(MARKETING, name="Germans", description=None,
                                 kind="dynamic", definition=GERMANS, engine=engine)
    assert service.may_change(MARKETING, saved) and service.may_change(ADMIN, saved)
    assert not service.may_change(OTHER_MARKETING, saved)
    assert not service.may_change(MANAGER, saved)  # a manager is not an administrator
    row, = sizes.list_segments(MARKETING, engine=engine)  # a line of the list will do too
    assert [service.may_change(actor, row) for actor in (MARKETING, OTHER_MARKETING)] == [
        True, False]
    with pytest.raises(PermissionDenied, match="owner"):
        service.update_segment(MANAGER, saved.id, expected_version=saved.version,
                               name="Mine now", description=None, kind="dynamic",
                               definition=GERMANS, engine=engine)
    renamed = service.update_segment(ADMIN, saved.id, expected_version=saved.version,
                                     name="Germans (checked)", description=None,
                                     kind="dynamic", definition=GERMANS, engine=engine)
    assert renamed.owner == MARKETING.username  # an administrator's edit does not take it over
    service.delete_segment(ADMIN, saved.id, engine=engine)
    assert service.segment_names(MARKETING, engine=engine) == {}


def test_membership_refuses_cycles_and_protects_used_segments(engine: Engine,
                                                               people: dict) -> None:
    base = service.save_segment(MARKETING, name="Base", description=None, kind="dynamic",
                                definition=GERMANS, engine=engine)
    uses = Group(children=[Condition(field="segment", op="in_segment", value=base.id)])
    user = service.save_segment(MARKETING, name="Uses base", description=None,
                                kind="dynamic", definition=uses, engine=engine)
    assert preview.count(MARKETING, uses, engine=engine) == 3
    with pytest.raises(SegmentError, match="used by Uses base"):
        service.delete_segment(MARKETING, base.id, engine=engine)
    loop = Group(children=[Condition(field="segment", op="in_segment", value=user.id)])
    with pytest.raises(SegmentError, match="cannot include itself"):
        service.update_segment(MARKETING, base.id, expected_version=base.version,
                               name="Base", description=None, kind="dynamic",
                               definition=loop, engine=engine)


def test_pick_lists_leave_out_the_segment_being_edited(engine: Engine) -> None:
    first = service.save_segment(MARKETING, name="b first", description=None,
                                 kind="dynamic", definition=GERMANS, engine=engine)
    second = service.save_segment(MARKETING, name="A second", description=None,
                                  kind="dynamic", definition=Group(), engine=engine)
    names = service.segment_names(MARKETING, engine=engine)
    assert list(names.items()) == [(second.id, "A second"), (first.id, "b first")]
    assert service.segment_names(MARKETING, usable_in=first.id, engine=engine) == {
        second.id: "A second"}


def test_bad_input_is_refused(engine: Engine) -> None:
    with pytest.raises(InvalidDefinition):
        service.save_segment(MARKETING, name="Bad", description=None, kind="dynamic",
                             definition=Group(children=[Condition(field="age", op="gt",
                                                                  value=-1)]),
                             engine=engine)
    with pytest.raises(SegmentError, match="name"):
        service.save_segment(MARKETING, name="   ", description=None, kind="dynamic",
                             definition=GERMANS, engine=engine)
    with pytest.raises(PermissionDenied):
        service.save_segment(Actor("x", "nobody"), name="Germans", description=None,
                             kind="dynamic", definition=GERMANS, engine=engine)


def test_saving_an_unchanged_segment_writes_nothing(engine: Engine, people: dict) -> None:
    saved = service.save_segment(MARKETING, name="Germans", description=None,
                                 kind="dynamic", definition=GERMANS, engine=engine)
    again = service.update_segment(MARKETING, saved.id, expected_version=saved.version,
                                   name="Germans", description=None, kind="dynamic",
                                   definition=GERMANS, engine=engine)
    assert again.version == saved.version
    assert events(engine, "segment.update") == []


def test_a_double_click_on_duplicate_makes_one_copy(engine: Engine, people: dict,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    saved = service.save_segment(MARKETING, name="Germans", description=None, kind="dynamic",
                                 definition=GERMANS, engine=engine)
    copy = service.duplicate_segment(MARKETING, saved.id, engine=engine)
    with pytest.raises(service.AlreadyDuplicated, match="moments ago") as refused:
        service.duplicate_segment(MARKETING, saved.id, engine=engine)
    assert refused.value.copy.id == copy.id
    # Someone else's copy, or one after the window, is a new copy.
    assert service.duplicate_segment(OTHER_MARKETING, saved.id, engine=engine).name == \
        "Germans (copy 2)"
    monkeypatch.setattr(recent, "DOUBLE_SUBMIT_WINDOW", timedelta(0))
    assert service.duplicate_segment(MARKETING, saved.id, engine=engine).name == \
        "Germans (copy 3)"
