"""Column suggestions on real export headers, in English and German, and the required fields."""

from __future__ import annotations

import pytest

from db.imports.mapping import (
    FIELDS,
    KINDS,
    REQUIRED_ANY,
    fold,
    is_known_label,
    missing_required,
    suggest,
)
from db.models import CONSENT_PURPOSES, Customer, Interaction, Order


def mapped(kind: str, columns: list[str]) -> dict[str, str]:
    return {field: column for field, column in suggest(kind, columns).items() if column}


def test_every_field_is_named_as_the_app_names_it() -> None:
    assert tuple(FIELDS) == KINDS
    names = {kind: {field.name for field in FIELDS[kind]} for kind in KINDS}
    # Beside the customer's own fields: what they stated per consent purpose.
    assert names["customers"] - set(Customer.model_fields) == {
        "consent_" + purpose for purpose in CONSENT_PURPOSES}
    # Beside the order's own fields: how to find its customer (and their country, for a
    # customer the import creates), and a unit price the amount is computed from.
    assert names["orders"] - set(Order.model_fields) <= {
        "order_ref", "customer_ref", "email", "country", "unit_price"}
    assert names["interactions"] - set(Interaction.model_fields) <= {"customer_ref", "email"}
    for kind, groups in REQUIRED_ANY.items():
        assert all(set(group) <= names[kind] for group in groups)


def test_uci_online_retail_orders() -> None:
    columns = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate",
               "UnitPrice", "CustomerID", "Country"]
    assert mapped("orders", columns) == {
        "order_ref": "InvoiceNo", "product": "Description", "quantity": "Quantity",
        "ordered_at": "InvoiceDate", "customer_ref": "CustomerID", "unit_price": "UnitPrice",
        "country": "Country"}
    # A unit price is not the order's amount: the amount is quantity x unit price.
    assert missing_required("orders", suggest("orders", columns)) == []


def test_german_shop_order_export() -> None:
    columns = ["Bestellnummer", "Bestelldatum", "Kundennummer", "E-Mail", "Zahlungsstatus",
               "Währung", "Zwischensumme", "Versandkosten", "Gesamtbetrag", "Artikelname",
               "Artikelnummer", "Menge", "Warengruppe", "Vertriebskanal", "Lieferland"]
    assert mapped("orders", columns) == {
        "order_ref": "Bestellnummer", "ordered_at": "Bestelldatum",
        "customer_ref": "Kundennummer", "email": "E-Mail", "currency": "Währung",
        "amount": "Gesamtbetrag", "product": "Artikelname", "quantity": "Menge",
        "category": "Warengruppe", "channel": "Vertriebskanal", "country": "Lieferland"}
    assert missing_required("orders", suggest("orders", columns)) == []


def test_shopify_order_export() -> None:
    columns = ["Name", "Email", "Financial Status", "Paid at", "Currency", "Subtotal",
               "Shipping", "Taxes", "Total", "Created at", "Lineitem quantity",
               "Lineitem name", "Lineitem price", "Billing Name", "Source"]
    assert mapped("orders", columns) == {
        "order_ref": "Name", "email": "Email", "currency": "Currency", "amount": "Total",
        "ordered_at": "Created at", "quantity": "Lineitem quantity",
        "product": "Lineitem name", "channel": "Source"}


def test_german_customer_export_jtl_like() -> None:
    columns = ["Kunden-Nr.", "Anrede", "Firma", "Vorname", "Nachname", "Straße", "PLZ", "Ort",
               "Land", "Telefon", "Handy", "E-Mail-Adresse", "Geburtsdatum", "Kunde seit",
               "Kundengruppe"]
    assert mapped("customers", columns) == {
        "external_ref": "Kunden-Nr.", "gender": "Anrede", "first_name": "Vorname",
        "last_name": "Nachname", "street": "Straße", "postcode": "PLZ", "city": "Ort",
        "country": "Land", "phone": "Telefon", "email": "E-Mail-Adresse",
        "birth_date": "Geburtsdatum", "created_at": "Kunde seit"}
    assert missing_required("customers", suggest("customers", columns)) == []


def test_english_crm_export_and_short_german_names() -> None:
    assert mapped("customers", ["Customer number", "First Name", "Last Name",
                                "Email Address", "Phone", "Address Line 1", "Zip", "City",
                                "Country", "Date of Birth", "Customer since"]) == {
        "external_ref": "Customer number", "first_name": "First Name",
        "last_name": "Last Name", "email": "Email Address", "phone": "Phone",
        "street": "Address Line 1", "postcode": "Zip", "city": "City", "country": "Country",
        "birth_date": "Date of Birth", "created_at": "Customer since"}
    assert mapped("customers", ["Name", "Vorname", "Mail", "Tel.", "Strasse", "Stadt",
                                "customer_id"]) == {
        "last_name": "Name", "first_name": "Vorname", "email": "Mail", "phone": "Tel.",
        "street": "Strasse", "city": "Stadt", "external_ref": "customer_id"}


def test_interactions_export() -> None:
    assert mapped("interactions", ["Kundennummer", "Datum", "Kontaktart", "Richtung",
                                   "Betreff", "Notiz", "Ergebnis"]) == {
        "customer_ref": "Kundennummer", "at": "Datum", "kind": "Kontaktart",
        "direction": "Richtung", "subject": "Betreff", "summary": "Notiz",
        "outcome": "Ergebnis"}


@pytest.mark.parametrize("column", ["E-Mail", "email", "E_MAIL", " e mail ", "email_address",
                                    "E-Mail-Adresse", "EMailAdresse", "Mail"])
def test_case_accents_punctuation_and_spaces_do_not_matter(column: str) -> None:
    assert suggest("customers", [column])["email"] == column


def test_folding() -> None:
    assert fold("Straße") == fold("STRASSE") == fold("strasse") == "strasse"
    assert fold(" Kunden-Nr. ") == "kundennr"
    assert fold("Währung") == "wahrung"
    assert is_known_label("Währung") and is_known_label("InvoiceDate")
    assert not is_known_label("Zahlungsstatus")


def test_a_whole_name_beats_a_keyword_and_no_column_feeds_two_fields() -> None:
    columns = ["Kunden-E-Mail", "E-Mail", "Rechnungsadresse Straße"]
    assert mapped("customers", columns) == {"email": "E-Mail",
                                            "street": "Rechnungsadresse Straße"}
    # "Name" is the last name of customers; it cannot be the first name as well.
    assert mapped("customers", ["Name"]) == {"last_name": "Name"}
    # Two columns named alike: the first gets the field, the second stays free.
    assert mapped("customers", ["Email", "Email (2)"]) == {"email": "Email"}
    assert mapped("orders", ["Kundennummer", "Kunden-Nr."]) == {"customer_ref": "Kundennummer"}


def test_missing_required_names_fields_and_either_or_groups() -> None:
    assert missing_required("customers", {}) == ["First name", "Last name", "Country"]
    assert missing_required("orders", {"order_ref": "Nr", "email": None}) == [
        "Order date", "Customer number or Customer e-mail", "Amount or Unit price"]
    assert missing_required("interactions", {"email": "Mail", "at": "Datum", "kind": "Art",
                                             "subject": "Betreff"}) == []
