"""One file row → what the import writes, checked by the rules every other write path uses.

Each kind has a function that takes a row's mapped cells (field → the text in the file) and
returns the values to write, or raises :class:`RowProblem` with the reason the person who
uploaded the file reads beside the row's line number. Customer fields go through
:func:`db.customers.validation.clean_customer_fields`, the edit form's own validators; dates,
amounts and currencies through :mod:`db.imports.values`. An empty cell means "not given": it
never blanks a stored value, and a required field is only required of a new customer, which
the engine decides (:mod:`db.imports.engine`). Nothing here touches the database.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Engine

from db.admin import settings
from db.core.money import LARGEST_AMOUNT
from db.core.text import control_problem
from db.customers.consent import NOTICE_LENGTH
from db.customers.validation import (
    InvalidFields,
    InvalidValue,
    clean_customer_fields,
    normalise_country,
    normalise_email,
)
from db.exports import restored
from db.imports.consent import statements
from db.imports.mapping import FIELDS
from db.imports.values import parse_currency, parse_date, parse_datetime, split_amount
from db.models import DIRECTIONS, INTERACTION_KINDS, ORDER_CHANNELS

MODES = ("create_and_update", "create_only", "update_only")
MODE_LABELS = {"create_and_update": "Create new and update existing",
               "create_only": "Only create new", "update_only": "Only update existing"}
# What people write in these columns, folded to the app's words (lower-case keys).
_GENDERS = {"f": "female", "w": "female", "weiblich": "female", "frau": "female",
            "m": "male", "männlich": "male", "maennlich": "male", "mann": "male",
            "d": "diverse", "divers": "diverse", "x": "diverse", "u": "undisclosed",
            "unknown": "undisclosed", "keine angabe": "undisclosed",
            # salutations ("Anrede"), which the mapping suggests for gender
            "herr": "male", "hr.": "male", "hr": "male", "mr": "male", "mr.": "male",
            "fr.": "female", "fr": "female", "mrs": "female", "mrs.": "female",
            "ms": "female", "ms.": "female", "miss": "female"}
_KINDS = {"e-mail": "email", "mail": "email", "phone": "call", "anruf": "call",
          "telefonat": "call", "termin": "meeting", "besuch": "meeting", "notiz": "note",
          "support": "ticket"}
_DIRECTIONS = {"in": "inbound", "eingehend": "inbound", "incoming": "inbound",
               "out": "outbound", "ausgehend": "outbound", "outgoing": "outbound",
               "intern": "internal"}
_LABELS = {kind: {spec.name: spec.label for spec in specs} for kind, specs in FIELDS.items()}
_CHOICES = ("gender", "income_band", "preferred_channel", "status", "source")
REF_LENGTH = 64  # orders.external_ref and customer.external_ref


class RowProblem(ValueError):
    """Why a row cannot be imported, in words for the person who made the file."""


@dataclass(frozen=True)
class Options:
    """What the file does not say and the person importing chooses.

    ``day_first`` reads dates such as 03/05/2024 (None: the file must not hold any that read
    both ways); ``currency``, ``channel`` and ``category`` fill orders whose file has no such
    column (:meth:`house` starts from the house currency setting, the wizard's and the
    command's default); ``create_customers`` lets an order file create a customer for an unknown
    customer number or e-mail. ``country`` is the country of the customers an import
    creates (from a customer or an order file) whose row gives none. ``notice_version`` is
    the privacy notice under which a customer file's consent columns were given (required
    when any is mapped).
    """

    mode: str = "create_and_update"
    day_first: bool | None = None
    currency: str = "EUR"
    channel: str = "web"
    category: str = "uncategorised"
    create_customers: bool = False
    country: str | None = None
    notice_version: str | None = None

    @classmethod
    def house(cls, *, engine: Engine | None = None) -> Options:
        """The defaults, with the house currency (a setting) for orders without one."""
        return cls(currency=settings.current(engine=engine).house_currency)

    def problems(self) -> list[str]:
        """What is wrong with these options (empty when they can be used)."""
        found = []
        notice = self.notice_version
        if notice is not None and (not notice.strip() or len(notice.strip()) > NOTICE_LENGTH
                                   or control_problem(notice)):
            found.append(f"Privacy notice version: 1 to {NOTICE_LENGTH} characters, no "
                         "control characters.")
        if self.mode not in MODES:
            found.append(f"Choose a mode: {', '.join(MODES)}.")
        try:
            parse_currency(self.currency)
        except InvalidValue as error:
            found.append(f"Default currency: {error}")
        if self.channel not in ORDER_CHANNELS:
            found.append(f"Default channel: choose one of {', '.join(ORDER_CHANNELS)}.")
        if not self.category.strip() or len(self.category) > 50:
            found.append("Default category: 1 to 50 characters.")
        if self.country is not None:
            try:
                normalise_country(self.country)
            except InvalidValue as error:
                found.append(f"Country for new customers: {error}")
        return found


@dataclass
class CustomerRow:
    """A customer row's cleaned fields (only those the file gives) and its keys."""

    line: int
    fields: dict[str, Any]
    created_at: datetime | None = None
    consent: dict[str, bool] = field(default_factory=dict)  # purpose → granted, as stated

    @property
    def ref(self) -> str | None:
        return self.fields.get("external_ref")

    @property
    def email(self) -> str | None:
        return self.fields.get("email")


@dataclass
class OrderRow:
    """An order row: how to find its customer, and the order's values (``order_ref`` is the
    file's order number; the engine makes the stored reference from it)."""

    line: int
    customer_ref: str | None
    email: str | None
    country: str | None
    order_ref: str | None
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class InteractionRow:
    """An interaction row: how to find its customer, and the contact's values."""

    line: int
    customer_ref: str | None
    email: str | None
    values: dict[str, Any] = field(default_factory=dict)


def given(cells: dict[str, str]) -> dict[str, str]:
    """The cells with something in them, trimmed; a value a spreadsheet-safe export marked
    as text (``'=...``) as it was before."""
    return {name: restored(text.strip()) for name, text in cells.items()
            if text and text.strip()}


def _problem(kind: str, errors: dict[str, str]) -> RowProblem:
    return RowProblem("; ".join(f"{_LABELS[kind].get(name, name)}: {message}"
                                for name, message in errors.items()))


def _when(kind: str, name: str, text: str, options: Options, now: datetime) -> datetime:
    try:
        moment = parse_datetime(text, day_first=options.day_first)
    except InvalidValue as error:
        raise _problem(kind, {name: str(error)}) from None
    if moment > now:
        raise _problem(kind, {name: f"{text!r} is in the future."})
    return moment


def customer_row(cells: dict[str, str], line: int, options: Options, now: datetime
                 ) -> CustomerRow:
    """A customer row's fields, cleaned by the edit form's validators."""
    raw: dict[str, Any] = given(cells)
    created = raw.pop("created_at", None)
    created_at = None if created is None else _when("customers", "created_at", created,
                                                    options, now)
    for name in _CHOICES:
        if name in raw:
            folded = raw[name].lower()
            raw[name] = _GENDERS.get(folded, folded) if name == "gender" else folded
    consent, errors = statements(raw)
    if "birth_date" in raw:
        try:
            raw["birth_date"] = parse_date(raw["birth_date"], day_first=options.day_first)
        except InvalidValue as error:
            errors["birth_date"] = str(error)
            del raw["birth_date"]
    try:
        cleaned = clean_customer_fields(raw, country_of_record=options.country,
                                        today=now.date())
    except InvalidFields as error:
        errors |= error.errors
        cleaned = {}
    if errors:
        raise _problem("customers", errors)
    return CustomerRow(line, cleaned, created_at, consent)


def _customer_keys(kind: str, raw: dict[str, str]) -> tuple[str | None, str | None]:
    ref = raw.get("customer_ref")
    if ref is not None and (len(ref) > REF_LENGTH or control_problem(ref)):
        raise _problem(kind, {"customer_ref": f"At most {REF_LENGTH} characters, no "
                                              "control characters."})
    email = None
    if "email" in raw:
        try:
            email = normalise_email(raw["email"])
        except InvalidValue as error:
            raise _problem(kind, {"email": str(error)}) from None
    if ref is None and email is None:
        raise RowProblem("No customer number or e-mail to find the customer by.")
    return ref, email


def _text(kind: str, raw: dict[str, str], name: str, longest: int, *,
          multiline: bool = False) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    problem = control_problem(value, multiline=multiline)
    if problem:
        raise _problem(kind, {name: problem})
    if len(value) > longest:
        raise _problem(kind, {name: f"At most {longest} characters (this has {len(value)})."})
    return value


def _quantity(raw: dict[str, str]) -> int:
    text = raw.get("quantity", "1").replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise _problem("orders", {"quantity": f"{text!r} is not a whole number."}) from None
    if number != number.to_integral_value() or number == 0 or abs(number) > 1_000_000:
        raise _problem("orders", {"quantity": f"{text!r} is not a whole number other than 0."})
    return int(number)


def order_row(cells: dict[str, str], line: int, options: Options, now: datetime) -> OrderRow:
    """An order row. The amount is the file's amount, or its unit price times the quantity;
    a negative amount or quantity makes the row a refund (stored as a negative amount and a
    positive quantity). A currency written beside the amount counts when the file has no
    currency column; the options' default otherwise."""
    raw = given(cells)
    customer_ref, email = _customer_keys("orders", raw)
    ordered_at = _when("orders", "ordered_at", raw.get("ordered_at", ""), options, now)
    quantity = _quantity(raw)
    source = "amount" if "amount" in raw else "unit_price"
    if source not in raw:
        raise _problem("orders", {"amount": "This field is required."})
    try:
        number, written_currency = split_amount(raw[source])
    except InvalidValue as error:
        raise _problem("orders", {source: str(error)}) from None
    try:
        currency = parse_currency(raw["currency"]) if "currency" in raw else (
            written_currency or parse_currency(options.currency))
    except InvalidValue as error:
        raise _problem("orders", {"currency": str(error)}) from None
    amount = number if source == "amount" else number * quantity
    if quantity < 0 and amount > 0:
        amount = -amount
    if amount.copy_abs() > LARGEST_AMOUNT:
        raise _problem("orders", {source: "The amount is too large."})
    channel = raw.get("channel", options.channel).lower()
    if channel not in ORDER_CHANNELS:
        raise _problem("orders", {"channel": f"Choose one of: {', '.join(ORDER_CHANNELS)}."})
    country = None
    if "country" in raw:
        try:
            country = normalise_country(raw["country"])
        except InvalidValue as error:
            raise _problem("orders", {"country": str(error)}) from None
    order_ref = _text("orders", raw, "order_ref", REF_LENGTH - 8)
    values = {"ordered_at": ordered_at, "amount": amount.quantize(Decimal("0.01")),
              "currency": currency, "quantity": abs(quantity), "channel": channel,
              "category": _text("orders", raw, "category", 50) or options.category,
              "product": _text("orders", raw, "product", 120) or ""}
    return OrderRow(line, customer_ref, email, country, order_ref, values)


def content_ref(row: OrderRow) -> str:
    """A reference for an order whose file has no order number: a digest of what the row
    says, so the same row imported again is recognised."""
    parts = [row.customer_ref or "", row.email or "",
             row.values["ordered_at"].isoformat(), str(row.values["amount"]),
             row.values["currency"], row.values["product"], str(row.values["quantity"])]
    return "row:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def interaction_row(cells: dict[str, str], line: int, options: Options, now: datetime
                    ) -> InteractionRow:
    """An interaction row; kinds and directions accept common English and German words."""
    raw = given(cells)
    customer_ref, email = _customer_keys("interactions", raw)
    at = _when("interactions", "at", raw.get("at", ""), options, now)
    kind = raw.get("kind", "").lower()
    kind = _KINDS.get(kind, kind)
    if kind not in INTERACTION_KINDS:
        raise _problem("interactions",
                       {"kind": f"Choose one of: {', '.join(INTERACTION_KINDS)}."})
    direction = raw.get("direction", "outbound").lower()
    direction = _DIRECTIONS.get(direction, direction)
    if direction not in DIRECTIONS:
        raise _problem("interactions",
                       {"direction": f"Choose one of: {', '.join(DIRECTIONS)}."})
    subject = _text("interactions", raw, "subject", 200)
    if subject is None:
        raise _problem("interactions", {"subject": "This field is required."})
    values = {"at": at, "kind": kind, "direction": direction, "subject": subject,
              "summary": _text("interactions", raw, "summary", 4000, multiline=True),
              "outcome": _text("interactions", raw, "outcome", 100)}
    return InteractionRow(line, customer_ref, email, values)

