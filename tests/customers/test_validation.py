"""The shared validators: normalisation, and one message per failing field."""

from __future__ import annotations

from datetime import date

import pytest

from db.customers.validation import (
    InvalidFields,
    InvalidValue,
    clean_customer_fields,
    normalise_country,
    normalise_email,
    normalise_phone,
)

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize("typed", ["+44 20 7946 0958", "020 7946 0958", "442079460958",
                                   "(020) 7946-0958"])
def test_phone_numbers_in_any_format_become_e164(typed: str) -> None:
    region = None if typed.startswith("44") else "GB"
    assert normalise_phone("+" + typed if region is None else typed, region) == "+442079460958"


def test_invalid_phone_numbers_are_refused() -> None:
    with pytest.raises(InvalidValue, match="not a valid phone number for GB"):
        normalise_phone("020 123", "GB")
    with pytest.raises(InvalidValue, match="not a phone number"):
        normalise_phone("call me", "GB")


def test_emails_are_normalised_and_checked() -> None:
    assert normalise_email("  Jane.Doe@Example.COM ") == "jane.doe@example.com"
    with pytest.raises(InvalidValue, match="not a valid email"):
        normalise_email("jane@")


@pytest.mark.parametrize(("typed", "code"), [("de", "DE"), ("DEU", "DE"), ("Germany", "DE"),
                                             ("gb", "GB")])
def test_countries_become_iso_codes(typed: str, code: str) -> None:
    assert normalise_country(typed) == code


def test_every_failing_field_gets_its_own_message() -> None:
    with pytest.raises(InvalidFields) as caught:
        clean_customer_fields({
            "first_name": " ", "last_name": "x" * 101, "email": "nope", "country": "Atlantis",
            "birth_date": date(2030, 1, 1), "status": "vip", "phone": "12",
        }, country_of_record="GB", today=TODAY)
    errors = caught.value.errors
    assert set(errors) == {"first_name", "last_name", "email", "country", "birth_date",
                           "status", "phone"}
    assert errors["first_name"] == "This field is required."
    assert errors["last_name"].startswith("At most 100 characters")
    assert errors["birth_date"] == "The birth date is in the future."


def test_age_is_at_most_120() -> None:
    with pytest.raises(InvalidFields) as caught:
        clean_customer_fields({"birth_date": "1900-01-01"}, country_of_record="GB", today=TODAY)
    assert "older than 120" in caught.value.errors["birth_date"]
    ok = clean_customer_fields({"birth_date": "1907-01-01"}, country_of_record="GB", today=TODAY)
    assert ok["birth_date"] == date(1907, 1, 1)


def test_phone_is_read_in_the_new_country_when_it_changes() -> None:
    cleaned = clean_customer_fields({"country": "DE", "phone": "030 901820"},
                                    country_of_record="GB", today=TODAY)
    assert cleaned == {"country": "DE", "phone": "+4930901820"}


def test_empty_optional_fields_become_none_and_unknown_fields_are_refused() -> None:
    cleaned = clean_customer_fields({"city": "  ", "email": "", "phone": None},
                                    country_of_record="GB", today=TODAY)
    assert cleaned == {"city": None, "email": None, "phone": None}
    with pytest.raises(InvalidFields, match="Not a customer field"):
        clean_customer_fields({"version": 9}, country_of_record="GB", today=TODAY)
