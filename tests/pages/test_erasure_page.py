"""Erasing from the profile's Privacy tab: admins only, a wrong confirmation keeps the form and
erases nothing, the right one leaves only the pseudonym; the new-customer form then says
why it refuses the address."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from db.core.access import Actor
from db.customers.service import CustomerErased, create_customer, get_customer
from db.search.ranking import search_customers
from tests.pages.conftest import ROOT, open_profile

ADMIN, MANAGER = Actor("admin", "admin"), Actor("manager", "manager")
EMAIL = "ada.byron@example.org"
NEW_CUSTOMER = str(ROOT / "pages" / "new_customer.py")


@pytest.fixture
def ada(app_db: Engine) -> int:
    customer = create_customer(MANAGER, {"first_name": "Ada", "last_name": "Byron",
                                         "country": "GB", "email": EMAIL}, engine=app_db)
    assert customer.id is not None
    return customer.id


def _erase(at: AppTest, customer_id: int, typed: str) -> None:
    at.text_input(key=f"erase_confirm_{customer_id}").input(typed)
    at.button(key=f"FormSubmitter:erase_{customer_id}-Erase this customer for good"
              ).click().run()
    assert not at.exception, at.exception


def test_only_admins_see_the_privacy_tab(signed_in: Callable[[str], AppTest], ada: int) -> None:
    manager = open_profile(signed_in, "manager", ada)
    assert "Privacy" not in [tab.label for tab in manager.tabs]
    admin = open_profile(signed_in, "admin", ada)
    assert "Privacy" in [tab.label for tab in admin.tabs]


def test_erasing_needs_the_typed_address_and_leaves_the_pseudonym(
    signed_in: Callable[[str], AppTest], ada: int, app_db: Engine
) -> None:
    at = open_profile(signed_in, "admin", ada)
    _erase(at, ada, "ada@elsewhere.org")
    assert "type this customer's e-mail address" in at.error[0].value.replace("\\", "")
    assert at.text_input(key=f"erase_confirm_{ada}").value == "ada@elsewhere.org"
    assert get_customer(MANAGER, ada, engine=app_db).email == EMAIL  # nothing erased
    _erase(at, ada, EMAIL.upper())
    with pytest.raises(CustomerErased) as erased:
        get_customer(MANAGER, ada, engine=app_db)
    pseudonym = erased.value.pseudonym
    assert at.title[0].value.replace("\\", "") == f"Erased customer {pseudonym}"
    done = at.success[0].value.replace("\\", "")
    assert done.startswith(f"Erased: customer {ada} is now {pseudonym}.")
    assert "suppression list" in done
    assert not at.tabs and not at.text_input  # no profile left to edit
    assert search_customers(MANAGER, "Ada Byron", engine=app_db).hits == []
    # Another colleague opening the link sees the pseudonym only.
    later = open_profile(signed_in, "manager", ada)
    assert "Ada" not in later.title[0].value
    assert pseudonym in later.info[0].value.replace("\\", "")
    assert "was not saved" in later.caption[0].value
    # The new-customer form says why it will not add the address again.
    form = signed_in("manager")
    form.switch_page(NEW_CUSTOMER).run()
    form.text_input(key="new_first_name").input("Ada")
    form.text_input(key="new_last_name").input("King")
    form.text_input(key="new_email").input(EMAIL)
    form.text_input(key="new_country").input("GB")
    form.button[0].click().run()
    assert not form.exception
    assert any("erased at their request" in e.value.replace("\\", "") for e in form.error)
