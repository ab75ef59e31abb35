"""The customers the saved-segment tests count."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from db.customers import profile
from db.customers.service import create_customer
from tests.factories import ADMIN


@pytest.fixture
def people(engine: Engine) -> dict[str, int]:
    """Three Germans (two consented to email marketing), one Frenchman (consented)."""
    ids = {}
    for first, country, city in (("Anna", "DE", "=HYPERLINK(\"x\")"), ("Ben", "DE", "Berlin"),
                                 ("Carl", "DE", "Köln"), ("Dora", "FR", "Paris")):
        ids[first] = create_customer(ADMIN, {"first_name": first, "last_name": "Test",
                                             "country": country, "city": city,
                                             "email": f"{first.lower()}@example.com",
                                             "phone": "030 1234567" if first == "Anna"
                                             else None},
                                     engine=engine, confirm=True).id
    for first in ("Anna", "Ben", "Dora"):
        profile.record_consent(ADMIN, ids[first], purpose="email_marketing", granted=True,
                               source="form", notice_version="v1", engine=engine)
    return ids
