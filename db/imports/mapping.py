"""Which fields each kind of import fills, and which column of a file probably feeds which.

:data:`FIELDS` lists, per kind, the app's fields (the names of ``db/models.py``) with the
label the wizard shows and whether a row needs it; :data:`REQUIRED_ANY` the groups of which
at least one must be mapped (an order or interaction finds its customer by reference *or*
e-mail). :func:`suggest` maps fields to columns from the header names, in English and German:
names are compared after folding case, accents (``ß`` as ``ss``), punctuation and spaces, so
"E-Mail-Adresse", "e_mail adresse" and "EMailAdresse" are the same name. A column whose whole
name is a field's synonym beats one that merely contains a field's keyword ("Kunden-E-Mail"),
a longer keyword beats a shorter one, and no column is given to two fields. Nothing here
touches the database.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

KINDS = ("customers", "orders", "interactions")


@dataclass(frozen=True)
class ImportField:
    name: str
    label: str
    required: bool


def _fields(*specs: tuple[str, str, bool]) -> tuple[ImportField, ...]:
    return tuple(ImportField(name, label, required) for name, label, required in specs)


FIELDS: dict[str, tuple[ImportField, ...]] = {
    "customers": _fields(
        ("external_ref", "Customer number", False), ("first_name", "First name", True),
        ("last_name", "Last name", True), ("email", "E-mail", False), ("phone", "Phone", False),
        ("street", "Street", False), ("postcode", "Postcode", False), ("city", "City", False),
        ("country", "Country", True), ("birth_date", "Birth date", False),
        ("gender", "Gender", False), ("occupation", "Occupation", False),
        ("income_band", "Income band", False),
        ("preferred_channel", "Preferred channel", False), ("status", "Status", False),
        ("source", "Source", False), ("created_at", "Customer since", False),
        ("consent_email_marketing", "Consent: e-mail marketing", False),
        ("consent_sms", "Consent: SMS", False), ("consent_profiling", "Consent: profiling", False),
        ("consent_third_party_sharing", "Consent: third-party sharing", False)),
    "orders": _fields(
        ("order_ref", "Order number", False), ("customer_ref", "Customer number", False),
        ("email", "Customer e-mail", False), ("ordered_at", "Order date", True),
        ("amount", "Amount", False), ("unit_price", "Unit price", False),
        ("currency", "Currency", False),
        ("category", "Category", False), ("channel", "Channel", False),
        ("product", "Product", False), ("quantity", "Quantity", False),
        ("country", "Customer country", False)),
    "interactions": _fields(
        ("customer_ref", "Customer number", False), ("email", "Customer e-mail", False),
        ("at", "Date and time", True), ("kind", "Kind", True),
        ("direction", "Direction", False), ("subject", "Subject", True),
        ("summary", "Summary", False), ("outcome", "Outcome", False)),
}

REQUIRED_ANY: dict[str, tuple[tuple[str, ...], ...]] = {
    "customers": (),
    "orders": (("customer_ref", "email"), ("amount", "unit_price")),
    "interactions": (("customer_ref", "email"),),
}
"""Per kind, groups of fields of which at least one must be mapped."""

# Per field: (whole names, keywords a longer name may contain). Written naturally; folded
# by _fold when the module loads. Kind-specific entries override the shared ones.
_CUSTOMER_NUMBER = (
    ("customer number", "customer no", "customer id", "customerid", "customer ref",
     "customer reference", "client id", "client number", "account number", "kundennummer",
     "kunden nr", "kundennr", "kunden id", "kundenid", "debitor", "debitorennummer",
     "external ref", "external reference", "external id"),
    ("kundennummer", "kundennr", "customerid", "customernumber", "customerno", "debitor"))
_SHARED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "email": (("email", "e mail", "mail", "email address", "e mail address", "mail address",
               "e mail adresse", "email adresse", "mailadresse", "emailaddress"),
              ("email", "mailadresse", "emailadresse")),
    "first_name": (("first name", "firstname", "given name", "forename", "vorname", "first"),
                   ("vorname", "firstname", "givenname", "forename")),
    "last_name": (("last name", "lastname", "surname", "family name", "name", "nachname",
                   "familienname", "zuname", "last"),
                  ("nachname", "lastname", "surname", "familyname", "familienname")),
    "phone": (("phone", "telephone", "phone number", "tel", "telefon", "telefonnummer",
               "mobile", "mobile phone", "cell", "cell phone", "handy", "mobil",
               "mobilnummer", "rufnummer"),
              ("phone", "telefon", "telephone", "mobile", "handy", "rufnummer")),
    "street": (("street", "address", "street address", "address line 1", "address1",
                "strasse", "str", "strasse und hausnummer", "adresse", "anschrift"),
               ("strasse", "street", "address1", "anschrift")),
    "postcode": (("postcode", "post code", "postal code", "zip", "zip code", "zipcode", "plz",
                  "postleitzahl"), ("postcode", "postalcode", "zipcode", "plz",
                                    "postleitzahl")),
    "city": (("city", "town", "ort", "stadt", "wohnort", "place", "locality"),
             ("city", "stadt", "wohnort")),
    "country": (("country", "country code", "land", "staat", "laenderkennzeichen",
                 "landercode", "laendercode"), ("country", "land")),
    "birth_date": (("birth date", "birthdate", "date of birth", "dob", "birthday",
                    "geburtsdatum", "geburtstag", "geb datum"),
                   ("birth", "geburt")),
    "gender": (("gender", "sex", "geschlecht", "anrede", "salutation"),
               ("gender", "geschlecht")),
    "occupation": (("occupation", "job", "job title", "profession", "beruf", "taetigkeit"),
                   ("occupation", "beruf")),
    "income_band": (("income", "income band", "einkommen", "einkommensklasse"),
                    ("income", "einkommen")),
    "preferred_channel": (("preferred channel", "contact channel", "bevorzugter kanal",
                           "kontaktweg"), ("preferred", "bevorzugt", "kontaktweg")),
    "status": (("status", "customer status", "kundenstatus"), ("status",)),
    "source": (("source", "lead source", "quelle", "herkunft"), ("quelle", "herkunft")),
    "created_at": (("customer since", "created", "created at", "signup date", "registered",
                    "registration date", "kunde seit", "angelegt", "angelegt am", "erstellt",
                    "erstellt am", "registriert", "registriert am", "date created"),
                   ("customersince", "kundeseit", "registered", "registriert", "angelegt")),
    "order_ref": (("order number", "order no", "order id", "orderid", "order", "order ref",
                   "invoice no", "invoiceno", "invoice number", "invoice", "invoice id",
                   "bestellnummer", "bestell nr", "bestellnr", "bestellung", "auftragsnummer",
                   "auftrag", "rechnungsnummer", "rechnungsnr", "belegnummer", "name"),
                  ("bestellnummer", "bestellnr", "auftragsnummer", "rechnungsnummer",
                   "ordernumber", "orderid", "orderno", "invoiceno", "invoicenumber")),
    "ordered_at": (("date", "order date", "ordered at", "invoice date", "invoicedate",
                    "created at", "datum", "bestelldatum", "auftragsdatum",
                    "rechnungsdatum", "kaufdatum", "created", "erstellt", "erstellt am",
                    "purchase date"),
                   ("orderdate", "invoicedate", "bestelldatum", "auftragsdatum",
                    "rechnungsdatum", "kaufdatum", "datum", "date")),
    "amount": (("amount", "total", "sum", "order total", "grand total", "total amount",
                "revenue", "betrag", "summe", "gesamt", "gesamtbetrag", "gesamtsumme",
                "bruttobetrag", "brutto", "umsatz", "endbetrag", "rechnungsbetrag"),
               ("betrag", "summe", "total", "amount", "brutto", "umsatz")),
    "unit_price": (("unit price", "unitprice", "price", "price each", "item price", "preis",
                    "einzelpreis", "stueckpreis", "stuckpreis", "ep"),
                   ("unitprice", "einzelpreis", "stueckpreis", "stuckpreis")),
    "currency": (("currency", "currency code", "curr", "waehrung", "wahrung", "wahrungscode",
                  "waehrungscode"), ("currency", "wahrung", "waehrung")),
    "category": (("category", "product category", "kategorie", "warengruppe",
                  "produktkategorie", "artikelgruppe"),
                 ("category", "kategorie", "warengruppe", "artikelgruppe")),
    "channel": (("channel", "sales channel", "kanal", "vertriebskanal", "verkaufskanal",
                 "shop", "plattform", "source name"), ("channel", "kanal")),
    "product": (("product", "product name", "item", "item name", "description", "article",
                 "lineitem name", "produkt", "produktname", "artikel", "artikelname",
                 "bezeichnung", "artikelbezeichnung", "beschreibung"),
                ("product", "produkt", "artikelname", "artikelbezeichnung", "itemname")),
    "quantity": (("quantity", "qty", "units", "amount of items", "lineitem quantity",
                  "menge", "anzahl", "stueck", "stuck", "stuckzahl", "stueckzahl"),
                 ("quantity", "menge", "anzahl", "stuckzahl")),
    "at": (("date", "date and time", "datetime", "timestamp", "time", "at", "when",
            "datum", "zeitpunkt", "datum uhrzeit", "created", "created at", "erstellt"),
           ("timestamp", "zeitpunkt", "datum", "date")),
    "kind": (("kind", "type", "interaction type", "contact type", "art", "typ",
              "kontaktart", "aktivitat", "aktivitaet", "activity"),
             ("kontaktart", "interactiontype", "contacttype")),
    "direction": (("direction", "richtung", "in out", "eingehend ausgehend"),
                  ("direction", "richtung")),
    "subject": (("subject", "title", "topic", "betreff", "thema", "titel"),
                ("subject", "betreff")),
    "summary": (("summary", "notes", "note", "description", "details", "body", "text",
                 "comment", "notiz", "notizen", "zusammenfassung", "beschreibung",
                 "kommentar", "inhalt"), ("summary", "notiz", "zusammenfassung")),
    "outcome": (("outcome", "result", "ergebnis", "resultat"), ("outcome", "ergebnis")),
}
# Consent columns are named whole (a column merely containing "email" is the e-mail's).
_CONSENT: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "consent_" + purpose: (tuple(f"{a} {b}" for a in ("consent", "einwilligung")
                                 for b in words) + tuple(f"{b} consent" for b in words), ())
    for purpose, words in (
        ("email_marketing", ("email marketing", "e mail marketing", "email", "newsletter")),
        ("sms", ("sms", "sms marketing")), ("profiling", ("profiling",)),
        ("third_party_sharing", ("third party sharing", "third party", "dritte",
                                 "weitergabe")))}
_BY_KIND: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "customers": {"external_ref": _CUSTOMER_NUMBER, **_CONSENT},
    "orders": {"customer_ref": _CUSTOMER_NUMBER,
               "email": (_SHARED["email"][0] + ("customer email", "kunden email"),
                         _SHARED["email"][1]),
               "channel": (_SHARED["channel"][0] + ("source",), _SHARED["channel"][1])},
    "interactions": {"customer_ref": _CUSTOMER_NUMBER, "kind": _SHARED["kind"],
                     "summary": _SHARED["summary"]},
}


def fold(label: str) -> str:
    """A header name reduced to what :func:`suggest` compares: lower-case ASCII letters and
    digits (accents dropped, ``ß`` → ``ss``), no spaces or punctuation."""
    decomposed = unicodedata.normalize("NFKD", label.replace("ß", "ss").replace("ẞ", "SS"))
    ascii_text = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[^a-z0-9]", "", ascii_text.lower())


def _synonyms(kind: str) -> dict[str, tuple[set[str], tuple[str, ...]]]:
    table = {}
    for field in FIELDS[kind]:
        whole, keywords = _BY_KIND[kind].get(field.name) or _SHARED[field.name]
        table[field.name] = ({fold(name) for name in whole},
                             tuple(sorted({fold(word) for word in keywords}, key=len,
                                          reverse=True)))
    return table


_SYNONYMS = {kind: _synonyms(kind) for kind in KINDS}
_ALL_WHOLE = {name for kind in KINDS for whole, _ in _SYNONYMS[kind].values()
              for name in whole}


def is_known_label(label: str) -> bool:
    """Whether ``label`` is the whole name of some field of some kind (a header's clue)."""
    return fold(label) in _ALL_WHOLE


def suggest(kind: str, columns: list[str]) -> dict[str, str | None]:
    """Every field of ``kind`` → the column that most probably feeds it, or None."""
    synonyms = _SYNONYMS[kind]
    order = {field.name: index for index, field in enumerate(FIELDS[kind])}
    candidates: list[tuple[int, int, int, int, str, str]] = []
    for position, column in enumerate(columns):
        key = fold(column)
        if not key:
            continue
        for field, (whole, keywords) in synonyms.items():
            if key in whole:
                candidates.append((2, len(key), -position, -order[field], field, column))
                continue
            for word in keywords:
                if word in key:
                    candidates.append((1, len(word), -position, -order[field], field, column))
                    break
    mapping: dict[str, str | None] = {field.name: None for field in FIELDS[kind]}
    used: set[str] = set()
    for *_, field, column in sorted(candidates, reverse=True):
        if mapping[field] is None and column not in used:
            mapping[field] = column
            used.add(column)
    return mapping


def missing_required(kind: str, mapping: dict[str, str | None]) -> list[str]:
    """The labels of the required fields ``mapping`` leaves unmapped, then one entry per
    unmet required-any group ("Customer number or Customer e-mail")."""
    labels = {field.name: field.label for field in FIELDS[kind]}
    missing = [field.label for field in FIELDS[kind] if field.required
               and not mapping.get(field.name)]
    for group in REQUIRED_ANY[kind]:
        if not any(mapping.get(name) for name in group):
            missing.append(" or ".join(labels[name] for name in group))
    return missing
