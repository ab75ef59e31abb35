"""The installation's settings: stored in the database, read by the services that follow them,
changed by admins on the Settings page (or :func:`update`), every change audited.

:func:`current` needs no role (a sign-in or an order form reads it before anyone is known)
and gives the default of every setting nobody stored, so a fresh database behaves as the
defaults below say. Why these defaults:

- ``company_name`` "": no name until an admin types one; the app then shows just "custdb".
- ``house_currency`` EUR: what every order form and import assumed before it was a setting.
- ``stale_after_days`` 180: the seeds advise auditing and refreshing customer records every
  3–6 months, so a record whose details nobody has edited or re-imported for six months is
  due a check (the data quality report; an order or a contact does not confirm an address).
- ``retention_years`` 6: the shortest period German commercial law keeps business letters
  (HGB § 257, AO § 147: 6 years; accounting records 10); erase sooner only with counsel.
- ``sign_in_delay_after`` 3 and ``longest_sign_in_delay_minutes`` 15: the sign-in policy as it
  was (:func:`db.users.service.retry_delay`): a typo or two costs nothing, and a guesser keeps
  nobody, the admin included, out for longer than 15 minutes after their latest guess.
- ``monthly_discount_rate`` 0.01: the 12-month customer value (:mod:`db.predict`) discounts
  month m's expected spend by (1 + rate)^m; 1% a month is about 12.7% a year, a common cost
  of capital for a small business. From 0 (no discounting) to 0.1 (10% a month).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from db.admin.models import AppSetting
from db.audit import trail
from db.core.access import Actor, Capability, require
from db.core.engine import read_session, write_session
from db.core.fields import InvalidFields, InvalidValue
from db.core.money import normalise_currency
from db.core.text import control_problem
from db.core.types import utcnow


@dataclass(frozen=True)
class AppSettings:
    """Every setting's value; see the module's docstring for what each means and why its
    default is what it is."""

    company_name: str = ""
    house_currency: str = "EUR"
    stale_after_days: int = 180
    retention_years: int = 6
    sign_in_delay_after: int = 3
    longest_sign_in_delay_minutes: int = 15
    monthly_discount_rate: float = 0.01


DEFAULTS = AppSettings()
NAMES = tuple(field.name for field in fields(AppSettings))

# What each setting is called on the Settings page, so a message names what the admin sees.
LABELS = {
    "company_name": "Company name",
    "house_currency": "House currency",
    "stale_after_days": "Stale after (days)",
    "retention_years": "Retention period (years)",
    "sign_in_delay_after": "Failed sign-ins before delays start",
    "longest_sign_in_delay_minutes": "Longest sign-in delay (minutes)",
    "monthly_discount_rate": "Monthly discount rate",
}

COMPANY_NAME_LENGTH = 100
# The bounds of the whole-number settings: wide enough for any real policy, narrow enough
# that a slipped key (36500 for 365) or a zero that switches a rule off is refused.
BOUNDS = {
    "stale_after_days": (30, 3650),
    "retention_years": (1, 30),
    "sign_in_delay_after": (1, 20),
    "longest_sign_in_delay_minutes": (1, 1440),
}


@dataclass(frozen=True)
class LastChange:
    """Who stored a setting last, and when (UTC)."""

    by: str
    at: datetime


def _company_name(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidValue("Type the name as text.")
    text = value.strip()
    if problem := control_problem(text):
        raise InvalidValue(problem)
    if len(text) > COMPANY_NAME_LENGTH:
        raise InvalidValue(f"At most {COMPANY_NAME_LENGTH} characters ({len(text)} typed).")
    return text


def _whole_number(name: str) -> Callable[[object], int]:
    low, high = BOUNDS[name]

    def check(value: object) -> int:
        refusal = InvalidValue(f"A whole number from {low} to {high}"
                               + (f", not {value!r}." if isinstance(value, str) else "."))
        if isinstance(value, bool):
            raise refusal
        if isinstance(value, str):
            text = value.strip()
            if not text.isascii() or not text.isdigit():
                raise refusal
            value = int(text)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or not low <= value <= high:
            raise refusal
        return value
    return check


DISCOUNT_RATE_BOUNDS = (0.0, 0.1)


def _discount_rate(value: object) -> float:
    """A rate as a fraction (0.01), or as a percentage typed with "%" ("1%", "1,5 %")."""
    low, high = DISCOUNT_RATE_BOUNDS
    refusal = InvalidValue(f"A rate from {low:g} to {high:g} (0.01 is 1% a month), "
                           f"not {value!r}.")
    if isinstance(value, bool):
        raise refusal
    if isinstance(value, str):
        text = value.strip().replace(",", ".")
        percent = text.endswith("%")
        try:
            number = float(text.removesuffix("%").strip())
        except ValueError:
            raise refusal from None
        value = number / 100 if percent else number
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise refusal
    if not low <= value <= high:
        raise refusal
    return float(value)


_RULES: dict[str, Callable[[object], object]] = {
    "company_name": _company_name,
    "house_currency": normalise_currency,
    **{name: _whole_number(name) for name in BOUNDS},
    "monthly_discount_rate": _discount_rate,
}
assert set(_RULES) == set(NAMES)


def validate(values: Mapping[str, object]) -> dict[str, object]:
    """``values`` as they would be stored (trimmed, upper-cased, whole numbers), or
    :class:`InvalidFields` with a message per refused or unknown setting."""
    cleaned: dict[str, object] = {}
    errors: dict[str, str] = {}
    for name, value in values.items():
        rule = _RULES.get(name)
        if rule is None:
            errors[name] = f"There is no setting {name!r}."
            continue
        try:
            cleaned[name] = rule(value)
        except InvalidValue as error:
            errors[name] = f"{LABELS[name]}: {error}"
    if errors:
        raise InvalidFields(errors)
    return cleaned


def _stored(session: Session, *, for_update: bool = False) -> dict[str, AppSetting]:
    statement = select(AppSetting).order_by(col(AppSetting.name))
    rows = session.exec(statement.with_for_update() if for_update else statement).all()
    return {row.name: row for row in rows}


def _settings_of(rows: Mapping[str, AppSetting]) -> AppSettings:
    """The stored values over the defaults. A row that no longer passes its rule (written
    around the app, or by a version with other bounds) counts as not stored: a service
    keeps working on the default rather than failing every sign-in."""
    values: dict[str, Any] = {}
    for name, row in rows.items():
        if name in _RULES:
            try:
                values[name] = _RULES[name](json.loads(row.value))
            except (InvalidValue, ValueError):
                continue
    return replace(DEFAULTS, **values)


def current(*, engine: Engine | None = None) -> AppSettings:
    """The settings now: what admins stored, the default for the rest. No role needed."""
    with read_session(engine) as session:
        return _settings_of(_stored(session))


def last_change(*, engine: Engine | None = None) -> LastChange | None:
    """Who changed a setting last and when, or None while every setting has its default."""
    with read_session(engine) as session:
        row = session.exec(select(AppSetting)
                           .order_by(col(AppSetting.updated_at).desc()).limit(1)).first()
        return None if row is None else LastChange(row.updated_by, row.updated_at)


def update(actor: Actor, values: Mapping[str, object], *,
           engine: Engine | None = None) -> AppSettings:
    """Store ``values`` (setting name → value; names left out keep theirs); admins only.

    Validates every value first and raises :class:`InvalidFields` (a message per setting,
    naming it as the page does) before writing anything. Writes the changed settings and
    one ``settings.update`` audit event with ``[old, new]`` per changed setting in one
    transaction, and nothing at all when no value differs from the current one.
    Returns the settings after the change.
    """
    require(actor, Capability.ADMINISTER)
    cleaned = validate(values)
    with write_session(engine) as session:
        rows = _stored(session, for_update=True)  # two admins saving at once queue here
        before = _settings_of(rows)
        old = asdict(before)
        changes: dict[str, Any] = {name: [old[name], value] for name, value in cleaned.items()
                   if value != old[name]}
        if not changes:
            return before
        now = utcnow()
        for name, (_, value) in changes.items():
            row = rows.get(name) or AppSetting(name=name, value="", updated_by="")
            row.value = json.dumps(value)
            row.updated_at = now
            row.updated_by = actor.username[:50]
            session.add(row)
        trail.record(session, actor=actor.username, action="settings.update",
                     entity="settings", changes=changes, source="form")
        return replace(before, **{name: new for name, (_, new) in changes.items()})
