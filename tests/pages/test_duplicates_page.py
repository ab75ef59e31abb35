"""The Duplicates page: a manager finds the pairs, says one is not the same person (and it
does not come back), merges another field by field; a merge refused for a record changed
meanwhile says who changed what; admins merge in bulk after a preview; marketing is
refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from dashboard.text import plain
from db.core.access import Actor
from db.customers.service import CustomerMerged, create_customer, get_customer, update_customer
from db.quality import bulk, merge
from db.quality.candidates import find_duplicates
from db.quality.merge import merge_customers, merge_plan
from tests.pages.conftest import ROOT
from tests.pages.cut import cut_after

PAGE = str(ROOT / "pages" / "duplicates.py")
MANAGER, ADMIN = Actor("manager", "manager"), Actor("admin", "admin")


def _customer(engine: Engine, first: str, last: str, **fields: str) -> int:
    made = create_customer(MANAGER, {"first_name": first, "last_name": last, "country": "DE",
                                     **fields}, engine=engine, confirm=True)
    assert made.id is not None
    return made.id


@pytest.fixture
def twins(app_db: Engine) -> tuple[int, int, int, int]:
    """Two pairs of one person each, told apart by their phones."""
    anna = _customer(app_db, "Anna", "Schmidt", phone="+4930901820111", city="Berlin",
                     postcode="10115")
    anne = _customer(app_db, "Anna", "Schmitt", phone="030 901820111", street="Hauptstr. 1")
    carl = _customer(app_db, "Carl", "Weber", phone="+4989123456789", postcode="80331")
    karl = _customer(app_db, "Karl", "Weber", phone="+4989123456789", postcode="80331")
    return anna, anne, carl, karl


def _open(signed_in: Callable[[str], AppTest], role: str = "manager") -> AppTest:
    at = signed_in(role)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _click(at: AppTest, label: str) -> None:
    next(b for b in at.button if b.label.startswith(label)).click().run()
    assert not at.exception, at.exception


def _choose(at: AppTest, *ids: int) -> None:
    box = at.selectbox(key="duplicates_pair")
    index = next(i for i, label in enumerate(box.options) if all(f"#{n} " in label for n in ids))
    box.select_index(index).run()
    assert not at.exception, at.exception


def test_marketing_is_refused(signed_in: Callable[[str], AppTest]) -> None:
    at = _open(signed_in, "marketing")
    assert at.error[0].value.startswith("Your role (marketing) does not give access")


def test_find_then_not_the_same_then_merge(signed_in: Callable[[str], AppTest],
                                           twins: tuple[int, int, int, int],
                                           app_db: Engine) -> None:
    anna, anne, carl, karl = twins
    at = _open(signed_in)
    assert "No detection has run yet" in at.info[0].value
    _click(at, "Find duplicates now")
    assert at.success[0].value.startswith("Found 2 pairs to review")
    _choose(at, carl, karl)
    _click(at, "Not the same person")
    assert "will not be proposed again" in at.success[0].value
    _click(at, "Find duplicates now")  # a later run keeps the verdict
    assert at.success[0].value.startswith("Found 1 pair to review")
    assert not any(f"#{carl} " in o for o in at.selectbox(key="duplicates_pair").options)
    _choose(at, anna, anne)
    _click(at, "Same person, merge later")
    assert "are the same person" in at.success[0].value
    _choose(at, anna, anne)  # still listed: the verdict does not merge them
    keep = at.radio(key=f"survivor_{anna}_{anne}")
    assert keep.value == anna  # same orders (none): the older record
    street = at.radio(key=f"keep_{anna}_{anne}_street")
    assert street.value == "survivor"  # the kept record's address stays whole
    at.radio(key=f"keep_{anna}_{anne}_last_name").set_value("merged").run()
    _click(at, f"Merge into #{anna}")
    assert at.success[0].value.replace("\\", "").startswith(
        f"Merged #{anne} into #{anna}")
    assert get_customer(MANAGER, anna, engine=app_db).last_name == "Schmitt"
    with pytest.raises(CustomerMerged) as merged:
        get_customer(MANAGER, anne, engine=app_db)
    assert merged.value.survivor_id == anna
    assert at.success[1].value == "No pair left to review."


def test_a_record_changed_meanwhile_is_not_merged(signed_in: Callable[[str], AppTest],
                                                  twins: tuple[int, int, int, int],
                                                  app_db: Engine) -> None:
    anna, anne, _, _ = twins
    at = _open(signed_in)
    _click(at, "Find duplicates now")
    _choose(at, anna, anne)
    seen = get_customer(MANAGER, anne, engine=app_db)
    update_customer(Actor("morgan", "manager"), anne, seen.version, {"city": "Potsdam"},
                    engine=app_db)
    _click(at, f"Merge into #{anna}")
    assert "morgan changed customer" in at.error[0].value.replace("\\", "")
    assert get_customer(MANAGER, anne, engine=app_db).city == "Potsdam"  # not merged
    _click(at, f"Merge into #{anna}")  # the comparison was read again: now it merges
    with pytest.raises(CustomerMerged):
        get_customer(MANAGER, anne, engine=app_db)


def test_admins_merge_in_bulk_after_a_preview(signed_in: Callable[[str], AppTest],
                                              twins: tuple[int, int, int, int],
                                              app_db: Engine) -> None:
    _, anne, _, karl = twins
    manager = _open(signed_in)
    assert not [b for b in manager.button if b.label.startswith("Preview merging")]
    at = _open(signed_in, "admin")
    _click(at, "Find duplicates now")
    at.number_input(key="bulk_threshold").set_value(0.5).run()
    _click(at, "Preview merging 2 pairs")
    assert len(at.dataframe[1].value) == 2
    # A pair found after the preview is not merged by its confirmation.
    late = _customer(app_db, "Lena", "Late", phone="+4940123456789", postcode="20095")
    twin = _customer(app_db, "Lena", "Late", phone="+4940123456789", postcode="20095")
    find_duplicates(ADMIN, engine=app_db)
    at.text_input(key="bulk_typed").input("3")
    at.button(key="FormSubmitter:bulk_confirm-Merge 2 pairs").click().run()
    assert at.error[0].value == "Type 2 to confirm; nothing was merged."
    at.text_input(key="bulk_typed").input("2")
    at.button(key="FormSubmitter:bulk_confirm-Merge 2 pairs").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value.startswith("Merged 2 pairs")
    for gone in (anne, karl):
        with pytest.raises(CustomerMerged):
            get_customer(MANAGER, gone, engine=app_db)
    for kept in (late, twin):  # not previewed: still two records, left for review
        assert get_customer(MANAGER, kept, engine=app_db).first_name == "Lena"


def test_stored_names_are_shown_literally_and_a_pair_closed_elsewhere_says_so(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    same = {"phone": "+4930111222333", "postcode": "10115", "street": "Hauptstr. 5",
            "city": "Berlin", "birth_date": "1980-01-01"}
    plain_one = _customer(app_db, "Nora", "Link", **same)
    hostile = _customer(app_db, "[x](http://e.vil)", "Link", **same)
    at = _open(signed_in)
    _click(at, "Find duplicates now")
    _choose(at, plain_one, hostile)
    options = at.radio(key=f"survivor_{plain_one}_{hostile}").options
    assert any("\\[x\\]" in option for option in options), options  # escaped, no link
    first = at.radio(key=f"keep_{plain_one}_{hostile}_first_name").options
    assert plain(f"[x](http://e.vil) (#{hostile})") in first, first
    # Another tab merges the pair; this one is told on its next click.
    plan = merge_plan(ADMIN, plain_one, hostile, engine=app_db)
    merge_customers(ADMIN, survivor_id=plain_one, merged_id=hostile,
                    survivor_version=plan.survivor_version,
                    merged_version=plan.merged_version, engine=app_db)
    at.run()  # any click in this tab reruns the page
    assert any("no longer listed" in info.value for info in at.info), at.info


def test_a_click_during_a_bulk_merge_keeps_its_result(signed_in: Callable[[str], AppTest],
                                                      twins: tuple[int, int, int, int],
                                                      app_db: Engine,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The first click's run is stopped right after the merge committed (a click came): the
    second click must not merge again and report 0 merged, losing the real result."""
    at = _open(signed_in, "admin")
    _click(at, "Find duplicates now")
    at.number_input(key="bulk_threshold").set_value(0.5).run()
    _click(at, "Preview merging 2 pairs")
    runs = cut_after(monkeypatch, bulk, "merge_pairs")
    at.text_input(key="bulk_typed").input("2")
    at.button(key="FormSubmitter:bulk_confirm-Merge 2 pairs").click().run()  # cut off
    at.button(key="FormSubmitter:bulk_confirm-Merge 2 pairs").click().run()
    assert not at.exception, at.exception
    assert len(runs) == 1
    assert at.success[0].value.startswith("Merged 2 pairs; skipped 0")


def test_a_click_during_a_merge_keeps_its_result(signed_in: Callable[[str], AppTest],
                                                 twins: tuple[int, int, int, int],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    anna, anne, _, _ = twins
    at = _open(signed_in)
    _click(at, "Find duplicates now")
    _choose(at, anna, anne)
    cut_after(monkeypatch, merge, "merge_customers")
    next(b for b in at.button if b.label == f"Merge into #{anna}").click().run()  # cut off
    at.run()  # the click that came: on something else
    assert not at.exception, at.exception
    assert at.success[0].value.replace("\\", "").startswith(f"Merged #{anne} into #{anna}")
    assert not at.info  # not "the pair you had open is no longer listed"
