"""An old profile link to a merged customer opens the survivor and says so."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from db.quality.merge import merge_customers, merge_plan
from tests import factories
from tests.factories import MANAGER
from tests.pages.conftest import open_profile


def test_a_merged_customers_link_opens_the_survivor(signed_in: Callable[[str], AppTest],
                                                    app_db: Engine) -> None:
    ann = factories.customer(app_db, "Ann", "Lee", city="Berlin").id
    dup = factories.customer(app_db, "Ann", "Lee", email="ann@example.com").id
    assert ann is not None and dup is not None
    factories.order(app_db, dup, "25.00")
    plan = merge_plan(MANAGER, ann, dup, engine=app_db)
    merge_customers(MANAGER, survivor_id=ann, merged_id=dup,
                    survivor_version=plan.survivor_version,
                    merged_version=plan.merged_version, engine=app_db)
    at = open_profile(signed_in, "marketing", dup)
    assert at.query_params["customer"] == str(ann)
    assert at.info[0].value == (f"Customer {dup} was merged into this customer ({ann}): "
                                "links to it open this profile.")
    assert "Ann Lee" in at.title[0].value and at.tabs  # the survivor's full profile
    assert not at.warning
    at.run()  # the notice shows once; the survivor stays open
    assert not [info for info in at.info if "was merged" in info.value]
    assert at.query_params["customer"] == str(ann)
