"""One set of validators for every write path: forms, grid edits, imports, the CLI.

Each validator returns the normalised value or raises :class:`InvalidValue` with a message
written for the person who typed the value. :func:`clean_customer_fields` applies them to a
whole record and collects every problem per field, so a form can show each error beside its
field and save nothing until all pass.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Mapping
from datetime import date
from functools import cache, partial
from typing import Any, NoReturn

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email

from db.core.fields import InvalidFields, InvalidValue
from db.core.money import normalise_currency as normalise_currency  # callers import it here
from db.core.text import control_problem
from db.models import (
    CONTACT_CHANNELS,
    CUSTOMER_STATUSES,
    GENDERS,
    INCOME_BANDS,
    SOURCE_CHANNELS,
)

MAX_AGE_YEARS = 120


def normalise_email(value: str) -> str:
    """``" Jane.Doe@Example.COM "`` → ``"jane.doe@example.com"``; syntax checked, no DNS.

    Lower-cased whole, so that uniqueness holds however a person types their address
    (mailbox names are case-insensitive at every provider that matters).
    """
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidValue(f"{value.strip()!r} is not a valid email address: {error}") from None
    return checked.normalized.lower()


def normalise_phone(value: str, default_country: str | None) -> str:
    """A phone number in E.164 (``+442079460958``); national formats use the customer's
    country, so "020 7946 0958" for a GB customer is understood."""
    try:
        parsed = phonenumbers.parse(value, default_country)
    except phonenumbers.NumberParseException:
        raise InvalidValue(f"{value!r} is not a phone number.") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidValue(f"{value!r} is not a valid phone number"
                           + (f" for {default_country}." if default_country else "."))
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@cache
def _german_names() -> dict[str, str]:
    """German country names (pycountry's own translations) → alpha-2, folded to lower case:
    files from German-speaking teams write "Deutschland" and "Österreich"."""
    german = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["de"])
    return {german.gettext(country.name).casefold(): str(country.alpha_2)
            for country in pycountry.countries}


@cache
def normalise_country(value: str) -> str:
    """An ISO 3166 alpha-2 code from a code (``de``, ``DEU``) or an English or German name."""
    text = value.strip()
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        pass
    code = _german_names().get(text.casefold())
    if code is None:
        raise InvalidValue(f"{text!r} is not a country (use an ISO code such as DE).")
    return code


def check_text(value: str, *, multiline: bool = False) -> str:
    """``value`` unchanged, or :class:`InvalidValue` naming the first control character in it.

    Every service checks every typed text with this before writing (the rule is
    :mod:`db.core.text`'s). Tabs and line breaks are allowed only where ``multiline``.
    """
    problem = control_problem(value, multiline=multiline)
    if problem:
        raise InvalidValue(problem)
    return value


def text_errors(values: Mapping[str, Any], *, multiline: tuple[str, ...] = ()
                ) -> dict[str, str]:
    """:func:`check_text` over several fields as they would be stored (trimmed): a message
    per field that fails (text values only; anything else is left to the field's own rule)."""
    errors: dict[str, str] = {}
    for name, value in values.items():
        if isinstance(value, str):
            try:
                check_text(value.strip(), multiline=name in multiline)
            except InvalidValue as error:
                errors[name] = str(error)
    return errors


def check_birth_date(value: date, today: date) -> date:
    if value > today:
        raise InvalidValue("The birth date is in the future.")
    if (today.year - value.year) - ((today.month, today.day) < (value.month, value.day)) \
            > MAX_AGE_YEARS:
        raise InvalidValue(f"That makes the customer older than {MAX_AGE_YEARS}.")
    return value


def _text(max_length: int, *, required: bool = False) -> Callable[[Any], str | None]:
    def clean(value: Any) -> str | None:
        text = "" if value is None else str(value).strip()
        if not text:
            if required:
                raise InvalidValue("This field is required.")
            return None
        if len(text) > max_length:
            raise InvalidValue(f"At most {max_length} characters (this has {len(text)}).")
        return text
    return clean


def _choice(options: tuple[str, ...]) -> Callable[[Any], str | None]:
    def clean(value: Any) -> str | None:
        if value is None or value == "":
            return None
        if value not in options:
            raise InvalidValue(f"Choose one of: {', '.join(options)}.")
        return str(value)
    return clean


_TEXT_RULES: dict[str, Callable[[Any], Any]] = {
    "first_name": _text(100, required=True),
    "last_name": _text(100, required=True),
    "street": _text(200),
    "postcode": _text(20),
    "city": _text(100),
    "occupation": _text(100),
    "external_ref": _text(64),
    "gender": _choice(GENDERS),
    "income_band": _choice(INCOME_BANDS),
    "preferred_channel": _choice(CONTACT_CHANNELS),
    "source": _choice(SOURCE_CHANNELS),
}
CUSTOMER_FIELDS = (*_TEXT_RULES, "email", "phone", "country", "birth_date", "status")


def clean_customer_fields(fields: Mapping[str, Any], *, country_of_record: str | None,
                          today: date) -> dict[str, Any]:
    """Validate and normalise the given customer fields; raise :class:`InvalidFields` with a
    message per failing field. Only the keys present are checked (an edit sends a subset).

    ``country_of_record`` is the customer's country before this change: the phone number is
    read in the new country if one is given, else in that one.
    """
    unknown = set(fields) - set(CUSTOMER_FIELDS)
    if unknown:
        raise InvalidFields({name: "Not a customer field." for name in sorted(unknown)})
    cleaned: dict[str, Any] = {}
    errors = text_errors(fields)  # every customer field is a single line

    def attempt(name: str, clean: Callable[[], Any]) -> None:
        try:
            cleaned[name] = clean()
        except InvalidValue as error:
            errors[name] = str(error)

    for name, rule in _TEXT_RULES.items():
        if name in fields and name not in errors:
            attempt(name, partial(rule, fields[name]))
    if "country" in fields and "country" not in errors:
        attempt("country", lambda: normalise_country(str(fields["country"] or ""))
                if str(fields["country"] or "").strip() else _required())
    if "status" in fields and "status" not in errors:
        attempt("status", lambda: _choice(CUSTOMER_STATUSES)(fields["status"]) or _required())
    if "email" in fields and "email" not in errors:
        attempt("email", lambda: normalise_email(fields["email"])
                if str(fields["email"] or "").strip() else None)
    if "phone" in fields and "phone" not in errors:
        region = cleaned.get("country") or country_of_record
        attempt("phone", lambda: normalise_phone(fields["phone"], region)
                if str(fields["phone"] or "").strip() else None)
    if "birth_date" in fields and "birth_date" not in errors:
        attempt("birth_date", lambda: None if fields["birth_date"] in (None, "")
                else check_birth_date(_as_date(fields["birth_date"]), today))
    if errors:
        raise InvalidFields(errors)
    return cleaned


def _required() -> NoReturn:
    raise InvalidValue("This field is required.")


def _as_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidValue(f"{value!r} is not a date (use YYYY-MM-DD).") from None
