"""The profile's record export and the lookup's "Export all customers" through the real
app: who is offered them, what the download says it holds, and the one audit event each."""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import Engine, select
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from db.models import AuditEvent
from tests import factories
from tests.pages.conftest import ROOT, open_profile

LOOKUP = str(ROOT / "pages" / "lookup.py")


def _audited(engine: Engine, action: str) -> list[tuple[str, dict]]:
    with Session(engine) as session:
        return [(event.actor, json.loads(event.changes)) for event in session.execute(
            select(AuditEvent).where(AuditEvent.action == action)).scalars()]


def _download(at: AppTest) -> str:
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    [download] = at.get("download_button")
    return str(download.proto.label)


def test_manager_and_marketing_export_a_customers_record(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    customer = factories.customer(app_db, "=HYPERLINK(\"x\")", "Byron")
    factories.order(app_db, customer.id, "12.00")
    at = open_profile(signed_in, "manager", customer.id)
    assert "payment methods (masked)" in " ".join(c.value for c in at.caption)
    at.button(key=f"record_export_{customer.id}_prepare").click().run()
    label = _download(at)
    assert label.startswith(f"Download customer-{customer.id}-")
    assert label.endswith(".xlsx (2 rows)")  # the customer and the order
    at.radio(key=f"record_export_{customer.id}_format").set_value("csv").run()
    assert not at.get("download_button")  # another format: prepare again
    at.button(key=f"record_export_{customer.id}_prepare").click().run()
    assert _download(at).endswith(".zip (2 rows)")

    at = open_profile(signed_in, "marketing", customer.id)
    assert "payment methods" not in " ".join(c.value for c in at.caption)
    at.button(key=f"record_export_{customer.id}_prepare").click().run()
    assert _download(at).endswith(".xlsx (2 rows)")
    assert [(actor, changes["format"]) for actor, changes in
            _audited(app_db, "customer.export_record")] == [
        ("manager", "xlsx"), ("manager", "csv"), ("marketing", "xlsx")]


def test_only_admins_are_offered_every_customer(
        signed_in: Callable[[str], AppTest], app_db: Engine) -> None:
    for name in ("Ada", "Ben", "Cem"):
        factories.customer(app_db, name, "Pager")
    for role in ("manager", "marketing"):
        at = signed_in(role)
        at.switch_page(LOOKUP).run()
        assert "Export all customers" not in [e.label for e in at.expander]
        assert not [b for b in at.button if b.key == "export_all_prepare"]
    at = signed_in("admin")
    at.switch_page(LOOKUP).run()
    at.text_input[0].input("nobody like this").run()  # shown with no results too
    at.radio(key="export_all_format").set_value("csv")
    at.button(key="export_all_prepare").click().run()
    label = _download(at)
    assert label.startswith("Download customers-") and label.endswith(".csv (3 customers)")
    assert [(actor, changes["rows"], changes["format"]) for actor, changes in
            _audited(app_db, "customer.export_all")] == [("admin", 3, "csv")]
