"""The Data quality page: admins and managers see completeness, validity and the stale count
with its threshold; each figure opens its list, which exports and saves as a static segment
(a taken name refused with the name kept); marketing is refused."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from sqlmodel import Session, col
from streamlit.testing.v1 import AppTest

from db.core import background
from db.core.child_process import ChildFailed
from db.core.types import utcnow
from db.models import Customer, Segment, SegmentMember
from db.quality import snapshot
from tests import factories
from tests.pages.conftest import ROOT

PAGE = str(ROOT / "pages" / "data_quality.py")


def _open(signed_in: Callable[[str], AppTest], role: str) -> AppTest:
    at = signed_in(role)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _people(engine: Engine) -> dict[str, int]:
    ids = {name: factories.customer(engine, name, "Quality").id
           for name in ("Anna", "Bert", "Cleo")}
    with engine.begin() as connection:
        connection.execute(update(Customer).where(col(Customer.id) == ids["Bert"])
                           .values(email="=bad address", updated_at=utcnow()
                                   - timedelta(days=400)))
    return ids


def _metric(at: AppTest, label: str) -> str:
    return next(metric.value for metric in at.metric if metric.label == label)


def test_marketing_is_refused(signed_in: Callable[[str], AppTest]) -> None:
    at = _open(signed_in, "marketing")
    assert at.error[0].value.startswith("Your role (marketing) does not give access")
    assert not at.dataframe and not at.metric


def test_a_manager_sees_the_figures_and_opens_a_list(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    ids = _people(app_db)
    at = _open(signed_in, "manager")
    completeness = at.dataframe[0].value.set_index("Field")
    assert completeness.loc["E-mail", "Missing"] == 2  # Anna and Cleo have none
    assert completeness.loc["Last name", "Missing"] == 0
    assert _metric(at, "Invalid e-mails") == "1" and _metric(at, "Stale records") == "1"
    assert any("more than 180 days" in caption.value for caption in at.caption)
    at.selectbox(key="quality_list").select(("invalid_email", None)).run()
    listed = at.dataframe[1].value
    assert listed["Id"].tolist() == [ids["Bert"]]
    assert listed["E-mail"].tolist() == ["=bad address"]  # shown as typed, never run
    at.selectbox(key="quality_list").select(("missing", "email")).run()
    assert sorted(at.dataframe[1].value["Id"]) == sorted([ids["Anna"], ids["Cleo"]])
    at.button(key="quality_export_prepare").click().run()
    assert not at.exception, at.exception
    assert at.get("download_button")


def test_an_admin_saves_a_list_as_a_static_segment(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    ids = _people(app_db)
    at = _open(signed_in, "admin")
    at.selectbox(key="quality_list").select(("stale", None)).run()
    at.text_input(key="quality_segment_name").input("Stale: refresh")
    at.button(key="FormSubmitter:quality_segment-Save as static segment").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value.startswith("Saved the static segment")
    with Session(app_db) as session:
        segment = session.exec(select(Segment)).scalars().one()
        assert (segment.name, segment.kind, segment.owner) == ("Stale: refresh", "static",
                                                               "admin")
        assert session.exec(select(SegmentMember.customer_id)).scalars().all() == [ids["Bert"]]
    at.selectbox(key="quality_list").select(("missing", "email")).run()
    at.text_input(key="quality_segment_name").input("stale: REFRESH")
    at.button(key="FormSubmitter:quality_segment-Save as static segment").click().run()
    assert "already exists" in at.error[0].value
    assert at.text_input(key="quality_segment_name").value == "stale: REFRESH"  # kept


def _held_check(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Checks wait for the returned event before their child process starts, as a million
    records' check keeps the page waiting; the page waits for none of it."""
    release = threading.Event()
    real = snapshot.run_in_child

    def held(*args: Any, **kwargs: Any) -> None:
        release.wait(20)
        real(*args, **kwargs)

    monkeypatch.setattr(snapshot, "run_in_child", held)
    monkeypatch.setattr(background, "PAGE_WAIT_S", 0.0)
    return release


def test_a_long_check_never_leaves_the_page_blank_or_waiting(
        signed_in: Callable[[str], AppTest], app_db: Engine,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _people(app_db)
    release = _held_check(monkeypatch)
    at = _open(signed_in, "manager")
    assert at.info[0].value.startswith("Checking every record for the first time")
    assert not at.metric and not at.dataframe
    release.set()
    assert snapshot.wait(app_db, 20)
    at.run()  # what the page's poll does once the check is done
    assert _metric(at, "Invalid e-mails") == "1" and not at.info
    release.clear()
    dora = factories.customer(app_db, "Dora", "Quality").id
    with app_db.begin() as connection:  # as an old import would have stored it
        connection.execute(update(Customer).where(col(Customer.id) == dora)
                           .values(email="=also bad"))
    at.run()  # the records changed: the last figures at once, the new check on its way
    assert at.info[0].value.startswith("Showing the check of")
    assert _metric(at, "Invalid e-mails") == "1"
    release.set()
    assert snapshot.wait(app_db, 20)
    at.run()
    assert _metric(at, "Invalid e-mails") == "2" and not at.info


def test_a_failed_check_is_said_and_checked_again_on_request(
        signed_in: Callable[[str], AppTest], app_db: Engine,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _people(app_db)
    real = snapshot.run_in_child

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ChildFailed("the child process of quality check failed with exit code 1")

    monkeypatch.setattr(snapshot, "run_in_child", broken)
    at = _open(signed_in, "admin")
    assert at.error[0].value == "Checking the records failed (the server's log says why)."
    assert not at.metric
    monkeypatch.setattr(snapshot, "run_in_child", real)
    at.run()  # a failed check is not retried by itself on every click
    assert at.error and not at.metric
    at.button(key="quality_check_again").click().run()
    assert snapshot.wait(app_db, 20)
    at.run()
    assert not at.error and _metric(at, "Invalid e-mails") == "1"
