"""Completeness and validity of the live customers' records, and the customers behind each
figure (admins and managers: ``Capability.EDIT_CUSTOMER``, the people who fix records; the
report is a worklist of corrections, not a business figure).

What each check counts, over live customers (neither soft-deleted nor erased):

- ``missing`` (per field of :data:`FIELDS`): the value is NULL, or text of only spaces.
- ``invalid_email``: a stored e-mail (not missing) that
  :func:`db.customers.validation.normalise_email` refuses today.
- ``invalid_phone``: a stored phone (not missing) that
  :func:`db.customers.validation.normalise_phone` refuses when read in the customer's own
  country: unparseable, or not a valid number (a national number that is not valid in that
  country; a number in international format must be valid where its prefix says).
- ``impossible_birth_date``: after today (UTC), or making the customer older than
  :data:`db.customers.validation.MAX_AGE_YEARS` — what the edit form refuses. Validation
  has no minimum age, so neither has the report.
- ``stale``: the record was last written (``updated_at``: created, edited on a form or by
  an import) more than the stale threshold ago (the setting ``stale_after_days``): stale
  when ``updated_at`` is strictly before now minus that many days, so a record updated
  exactly at the threshold is not yet stale, one a second earlier is. Orders, contacts,
  consent changes and tags do not count: they confirm no address, phone or name, and the
  seeds' advice is to audit and refresh the record itself. (Inactivity is the retention
  report's rule, :mod:`db.privacy.retention`.)

Speed: the missing, birth-date and stale figures are one SQL pass (sums of CASEs); e-mails
and phones are judged in Python by the normalisers themselves, in one streamed pass over
the customers who have either. An e-mail whose local part is a plain dot-atom and whose
domain the normaliser accepted already is accepted without a second full parse (domains
repeat; this is the normaliser's own rule, cached per domain), so phones dominate the time.
"""

from __future__ import annotations

import dataclasses
import re
import zlib
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, case, func, or_, select

from db.admin import settings
from db.core.access import Actor, Capability, require
from db.core.engine import get_engine
from db.core.sql import table_of
from db.core.types import utcnow
from db.customers.validation import (
    CUSTOMER_FIELDS,
    MAX_AGE_YEARS,
    InvalidValue,
    normalise_email,
    normalise_phone,
)
from db.models import Customer, live

C = table_of(Customer).c
# The customer fields whose completeness is reported, in the order the page lists them:
# every field a form or an import writes.
FIELDS = ("first_name", "last_name", "email", "phone", "street", "postcode", "city",
          "country", "birth_date", "gender", "occupation", "income_band",
          "preferred_channel", "status", "source", "external_ref")
assert set(FIELDS) == set(CUSTOMER_FIELDS)
FIELD_LABELS = {"first_name": "First name", "last_name": "Last name", "email": "E-mail",
                "phone": "Phone", "street": "Street", "postcode": "Postcode", "city": "City",
                "country": "Country", "birth_date": "Birth date", "gender": "Gender",
                "occupation": "Occupation", "income_band": "Income band",
                "preferred_channel": "Preferred channel", "status": "Status",
                "source": "Source", "external_ref": "Customer number"}
CHECKS = ("missing", "invalid_email", "invalid_phone", "impossible_birth_date", "stale")
CHECK_LABELS = {"missing": "Missing", "invalid_email": "Invalid e-mail",
                "invalid_phone": "Invalid phone", "impossible_birth_date":
                "Impossible birth date", "stale": "Stale"}
LIST_LIMIT = 1_000  # rows a page shows of one list; exports and segments take them all
_BATCH = 10_000  # rows streamed, or ids asked for, at a time
_DOT_ATOM = re.compile(r"[A-Za-z0-9_!#$%&'*+\-/=?^`{|}~]+(?:\.[A-Za-z0-9_!#$%&'*+\-/=?^`{|}~]+)*")


class QualityError(ValueError):
    """A list that does not exist was asked for; the message says which exist."""


@dataclass(frozen=True)
class QualityReport:
    """The figures of the report, as of ``as_of`` (UTC)."""

    customers: int  # live customers
    missing: dict[str, int]  # field → customers without a value, in FIELDS order
    invalid_email: int
    invalid_phone: int
    impossible_birth_date: int
    stale: int
    stale_after_days: int
    stale_before: datetime  # updated before this instant → stale
    as_of: datetime

    def share_missing(self, field: str) -> float:
        """The share (0–1) of live customers without ``field`` (0 with no customers)."""
        return self.missing[field] / self.customers if self.customers else 0.0


@dataclass(frozen=True)
class ListedCustomer:
    """A customer on one of the report's lists, with the fields the checks read."""

    id: int
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    country: str
    birth_date: date | None
    updated_at: datetime


def oldest_possible_birth_date(today: date) -> date:
    """The latest birth date that makes a customer older than MAX_AGE_YEARS on ``today``
    (the edit form's rule: whole years, born 29 February a year older on 1 March)."""
    year = today.year - MAX_AGE_YEARS - 1
    try:
        return today.replace(year=year)
    except ValueError:  # today is 29 February, that year has none
        return today.replace(year=year, day=28)


def stale_before(now: datetime, days: int) -> datetime:
    """The instant a record must have been updated at or after to count as current."""
    return now - timedelta(days=days)


def _missing(field: str) -> ColumnElement[bool]:
    column = C[field]
    if field == "birth_date":
        return column.is_(None)
    return or_(column.is_(None), func.trim(column) == "")


def _impossible_birth_date(today: date) -> ColumnElement[bool]:
    return or_(C.birth_date > today, C.birth_date <= oldest_possible_birth_date(today))


def _condition(check: str, field: str | None, now: datetime, days: int
               ) -> ColumnElement[bool] | None:
    """The SQL condition of a check (None: judged in Python, e-mails and phones)."""
    if check == "missing":
        assert field is not None
        return _missing(field)
    if check == "impossible_birth_date":
        return _impossible_birth_date(now.date())
    if check == "stale":
        return C.updated_at < stale_before(now, days)
    return None


def _checked(check: str, field: str | None) -> None:
    if check not in CHECKS:
        raise QualityError(f"There is no list {check!r}; the lists are: {', '.join(CHECKS)}.")
    if check == "missing" and field not in FIELDS:
        raise QualityError(f"Name a field for the missing values: one of {', '.join(FIELDS)}.")
    if check != "missing" and field is not None:
        raise QualityError(f"The {CHECK_LABELS[check].lower()} list takes no field.")


@lru_cache(maxsize=8_192)
def _domain_accepted(domain: str) -> bool:
    try:
        normalise_email(f"a@{domain}")
    except InvalidValue:
        return False
    return True


def email_is_valid(value: str) -> bool:
    """Whether :func:`normalise_email` accepts ``value`` (the same answer, faster)."""
    text = value.strip()
    local, at, domain = text.rpartition("@")
    if (at and text.isascii() and len(text) <= 254 and len(local) <= 64
            and _DOT_ATOM.fullmatch(local) and _domain_accepted(domain)):
        return True
    try:
        normalise_email(value)
    except InvalidValue:
        return False
    return True


def phone_is_valid(value: str, country: str | None) -> bool:
    """Whether :func:`normalise_phone` accepts ``value`` read in ``country``."""
    try:
        normalise_phone(value, country)
    except InvalidValue:
        return False
    return True


def _present(value: str | None) -> bool:
    return value is not None and value.strip(" ") != ""


def _stream(connection: Connection, *columns: Any, where: ColumnElement[bool]
            ) -> Iterator[Any]:
    result = connection.execution_options(yield_per=_BATCH).execute(
        select(C.id, *columns).where(live(), where).order_by(C.id))
    yield from result


@dataclass(frozen=True)
class PhoneVerdicts:
    """The normaliser's verdict on every stored phone of the live customers, by customer id
    ascending, with a digest of the (phone, country) it judged: a phone is judged again only
    when its customer's phone or country changed since, or the customer is new. The
    normaliser takes ~40 µs a number, so a million take 40 s once, and each later check
    reads these instead (kept per process here, and in the database by
    :mod:`db.quality.snapshot`, so a restart does not judge them all again)."""

    ids: array[int] = dataclasses.field(default_factory=lambda: array("q"))
    keys: array[int] = dataclasses.field(default_factory=lambda: array("Q"))
    valid: bytearray = dataclasses.field(default_factory=bytearray)


def phone_key(phone: str, country: str | None) -> int:
    """A digest of what a verdict depends on, the same in every process (``hash`` of text is
    not): two 32-bit checksums of different kinds side by side."""
    data = f"{phone}\x1f{country or ''}".encode()
    return zlib.crc32(data) << 32 | zlib.adler32(data)


# Each process's newest verdicts, per database URL.
_PHONE_MEMO: dict[str, PhoneVerdicts] = {}


def remembered(engine: Engine) -> PhoneVerdicts | None:
    """This process's newest phone verdicts for the database, if it judged them."""
    return _PHONE_MEMO.get(engine.url.render_as_string(hide_password=True))


def forget_verdicts() -> None:
    """Drop every remembered verdict (tests; they are right anyway for an unchanged key)."""
    _PHONE_MEMO.clear()


def judged(connection: Connection, known: PhoneVerdicts | None = None
           ) -> tuple[list[int], list[int], PhoneVerdicts]:
    """Ids of live customers whose stored e-mail, and whose phone, the normaliser refuses,
    and the verdicts on every phone: one streamed pass in id order. ``known`` verdicts (by
    default this process's newest for the database) are reused where the digest matches."""
    memo_key = connection.engine.url.render_as_string(hide_password=True)
    old = known or _PHONE_MEMO.get(memo_key) or PhoneVerdicts()
    new = PhoneVerdicts()
    bad_emails: list[int] = []
    bad_phones: list[int] = []
    at, known_count = 0, len(old.ids)
    for row in _stream(connection, C.email, C.phone, C.country,
                       where=or_(C.email.is_not(None), C.phone.is_not(None))):
        if _present(row.email) and not email_is_valid(row.email):
            bad_emails.append(row.id)
        if not _present(row.phone):
            continue
        key = phone_key(row.phone, row.country)
        while at < known_count and old.ids[at] < row.id:
            at += 1
        if at < known_count and old.ids[at] == row.id and old.keys[at] == key:
            valid = bool(old.valid[at])
        else:
            valid = phone_is_valid(row.phone, row.country)
        new.ids.append(row.id)
        new.keys.append(key)
        new.valid.append(valid)
        if not valid:
            bad_phones.append(row.id)
    _PHONE_MEMO[memo_key] = new
    return bad_emails, bad_phones, new


def _invalid(connection: Connection) -> tuple[list[int], list[int]]:
    bad_emails, bad_phones, _ = judged(connection)
    return bad_emails, bad_phones


@dataclass(frozen=True)
class CheckedRecords:
    """One check of every live record: the report, the customers of the two lists judged in
    Python (the others are SQL conditions) and the phone verdicts to reuse next time."""

    report: QualityReport
    invalid_emails: list[int]
    invalid_phones: list[int]
    verdicts: PhoneVerdicts


def check_records(actor: Actor, *, engine: Engine | None = None, now: datetime | None = None,
                  known: PhoneVerdicts | None = None) -> CheckedRecords:
    """Every figure of the report over the live customers (see the module's docstring),
    reusing ``known`` phone verdicts where they still apply."""
    require(actor, Capability.EDIT_CUSTOMER)
    engine = engine or get_engine()
    now = now or utcnow()
    days = settings.current(engine=engine).stale_after_days

    def counted(where: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((where, 1), else_=0)), 0)

    checks = [_missing(field) for field in FIELDS]
    checks += [_impossible_birth_date(now.date()), C.updated_at < stale_before(now, days)]
    with engine.connect() as connection:
        total, *counts = connection.execute(
            select(func.count(), *(counted(where) for where in checks)).where(live())).one()
        bad_emails, bad_phones, verdicts = judged(connection, known)
    figures = QualityReport(customers=total,
                            missing=dict(zip(FIELDS, map(int, counts), strict=False)),
                            invalid_email=len(bad_emails), invalid_phone=len(bad_phones),
                            impossible_birth_date=int(counts[-2]), stale=int(counts[-1]),
                            stale_after_days=days, stale_before=stale_before(now, days),
                            as_of=now)
    return CheckedRecords(figures, bad_emails, bad_phones, verdicts)


def first_of_each_list(checked: CheckedRecords, *, engine: Engine | None = None
                       ) -> dict[tuple[str, str | None], list[int]]:
    """The first :data:`LIST_LIMIT` ids of every list of a check, by (check, field), as of
    the check (no role check: the check was made by a role that may)."""
    figures = checked.report
    lists: dict[tuple[str, str | None], list[int]] = {
        ("invalid_email", None): checked.invalid_emails[:LIST_LIMIT],
        ("invalid_phone", None): checked.invalid_phones[:LIST_LIMIT]}
    with (engine or get_engine()).connect() as connection:
        for check, field in [("impossible_birth_date", None), ("stale", None),
                             *(("missing", field) for field in FIELDS)]:
            lists[(check, field)] = listed_ids(
                connection, check, field, now=figures.as_of,
                stale_after_days=figures.stale_after_days, limit=LIST_LIMIT)
    return lists


def quality_report(actor: Actor, *, engine: Engine | None = None,
                   now: datetime | None = None) -> QualityReport:
    """Every figure of the report over the live customers (see the module's docstring)."""
    return check_records(actor, engine=engine, now=now).report


def listed_ids(connection: Connection, check: str, field: str | None, *, now: datetime,
               stale_after_days: int, limit: int | None = None) -> list[int]:
    """Ids of every live customer on a list, ascending, the first ``limit`` of them (None:
    all; no role check: callers check)."""
    _checked(check, field)
    where = _condition(check, field, now, stale_after_days)
    if where is None:
        bad_emails, bad_phones = _invalid(connection)
        return (bad_emails if check == "invalid_email" else bad_phones)[:limit]
    return list(connection.execute(select(C.id).where(live(), where).order_by(C.id)
                                   .limit(limit)).scalars())


def list_ids(actor: Actor, check: str, field: str | None = None, *,
             engine: Engine | None = None, now: datetime | None = None,
             limit: int | None = None) -> list[int]:
    """Ids of every customer on the list ``check`` (and ``field``, for missing values), the
    first ``limit`` by id (None: all)."""
    require(actor, Capability.EDIT_CUSTOMER)
    _checked(check, field)
    engine = engine or get_engine()
    days = settings.current(engine=engine).stale_after_days
    with engine.connect() as connection:
        return listed_ids(connection, check, field, now=now or utcnow(),
                          stale_after_days=days, limit=limit)


def customers_with(actor: Actor, check: str, field: str | None = None, *,
                   limit: int | None = LIST_LIMIT, engine: Engine | None = None,
                   now: datetime | None = None,
                   listed: Mapping[tuple[str, str | None], Sequence[int]] | None = None
                   ) -> list[ListedCustomer]:
    """The customers behind one figure of the report, by id (the first ``limit``; None:
    all): ``check`` is one of :data:`CHECKS`; ``field`` names the field of ``missing``.
    ``listed`` holds the first ids of each list of a stored check
    (:mod:`db.quality.snapshot`): the page lists the customers its figures counted, without
    judging or scanning every record again; those deleted or erased since are left out."""
    if listed is not None and (check, field) in listed:
        require(actor, Capability.EDIT_CUSTOMER)
        ids = list(listed[(check, field)])[:limit]
    else:
        ids = list_ids(actor, check, field, engine=engine, now=now, limit=limit)
    rows: list[ListedCustomer] = []
    with (engine or get_engine()).connect() as connection:
        for start in range(0, len(ids), _BATCH):
            rows += [ListedCustomer(*row) for row in connection.execute(
                select(C.id, C.first_name, C.last_name, C.email, C.phone, C.country,
                       C.birth_date, C.updated_at)
                .where(C.id.in_(ids[start:start + _BATCH]), live()).order_by(C.id))]
    return rows


def data_stamp(actor: Actor, *, engine: Engine | None = None) -> tuple[Any, ...]:
    """A cheap value that changes whenever a customer is added, edited, deleted or erased,
    or the threshold changes: a page caches the report until it does."""
    require(actor, Capability.EDIT_CUSTOMER)
    engine = engine or get_engine()
    with engine.connect() as connection:
        stamp = connection.execute(select(
            func.count(), func.max(C.id), func.max(C.updated_at), func.max(C.deleted_at),
            func.count(C.deleted_at), func.count(C.erased_at))).one()
    return (*map(str, stamp), settings.current(engine=engine).stale_after_days)
