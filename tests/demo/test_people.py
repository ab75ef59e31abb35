"""Demo people: names, places and e-mails that fit their country."""

from __future__ import annotations

from sqlalchemy import Engine

from db.customers.validation import normalise_phone
from db.demo import vocabulary as vocab
from db.derived.search_index import fold
from db.models import Customer
from tests.demo.frames import frame


def test_places_and_emails_fit_the_people(demo_engine: Engine) -> None:
    customers = frame(demo_engine, Customer)
    # Cities fit the customer's country.
    cities = {c.code: {name for name, _ in c.cities} for c in vocab.COUNTRIES}
    assert all(row.city in cities[row.country] for row in customers.itertuples())
    # Emails are derived from the name, and unique.
    emails = customers.dropna(subset=["email"])
    from_name = [fold(r.last_name).replace(" ", "").replace("-", "").replace("'", "")
                 in r.email for r in emails.itertuples()]
    assert sum(from_name) / len(emails) > 0.95
    assert emails["email"].is_unique
    assert all(email.endswith(vocab.EMAIL_DOMAINS) for email in emails["email"])
    # Phone numbers are E.164 and pass the validator every form and import uses, so an
    # exported customer imports back unchanged.
    phones = customers.dropna(subset=["phone"])
    assert phones["phone"].str.fullmatch(r"\+[1-9]\d{7,14}").all()
    assert [row.phone for row in phones.itertuples()
            if normalise_phone(row.phone, row.country) != row.phone] == []


def test_fold_keeps_what_an_email_can_hold() -> None:
    assert fold("José Müller-Łukasz") == "jose muller-lukasz"
    assert fold("Straße") == "strasse"
