"""The newest data-quality check, kept in the database, and checks run in the background.

Why: judging every stored phone takes about 40 µs a number (40 s at a million customers),
and the SQL pass and the streamed e-mails take seconds more. So the Data quality page never
makes its user wait for a check: it shows the newest stored one at once (:func:`latest`),
and when the customers changed since, or the check is older than :data:`FRESH_FOR` (records
age into staleness), it starts a new one in the background (:func:`start`) and fills it in
when done. Each check stores the phone verdicts with the report (``quality_check``), so after
a restart, in another server process, or in the child process each background check runs
in, only the phones changed since are judged again.

A background check runs in a child process (:mod:`db.core.child_process`), not in a thread
of the server: at a million customers it is ~12 s of Python, which in a thread held the
server's GIL and made every other user's clicks take about twice as long.

The stored row holds customer ids and checksums, no personal values. It is derived data, like
the KPI tables: writing it is not a change of anyone's record, so it is not audited.
"""

from __future__ import annotations

import json
import logging
import sys
from array import array
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Literal

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from db.core import background
from db.core.access import Actor, Capability, require
from db.core.child_process import load_in_forkserver, run_in_child
from db.core.engine import get_engine
from db.core.sql import table_of
from db.core.types import utcnow
from db.kpi.board import data_version
from db.quality import report
from db.quality.models import QualityCheck
from db.quality.report import PhoneVerdicts, QualityReport

_LOG = logging.getLogger(__name__)
# Records age into staleness by the second, but a threshold is days: a check this old is
# shown while the next one runs, rather than a million records judged every five minutes
# (each check keeps a CPU core busy for seconds).
FRESH_FOR = timedelta(minutes=15)
T = table_of(QualityCheck)


Freshness = Literal["current", "old", "changed"]


@dataclass(frozen=True)
class StoredCheck:
    """A check as stored: the report, the first :data:`~db.quality.report.LIST_LIMIT` ids
    of each of its lists, and what the records looked like to it (the data version of
    :func:`db.kpi.board.data_version` and the customers' stamp of
    :func:`db.quality.report.data_stamp`)."""

    version: str
    stamp: str
    report: QualityReport
    lists: dict[tuple[str, str | None], list[int]]  # (check, field) → ids ascending


def latest(actor: Actor, *, engine: Engine | None = None) -> StoredCheck | None:
    """The newest stored check (None before the first), without the phone verdicts."""
    require(actor, Capability.EDIT_CUSTOMER)
    with (engine or get_engine()).connect() as connection:
        row = connection.execute(select(T.c.version, T.c.stamp, T.c.figures, T.c.lists)
                                 ).first()
    if row is None:
        return None
    lists = {_list_of(key): ids for key, ids in json.loads(row.lists).items()}
    return StoredCheck(row.version, row.stamp, _report_of(row.figures), lists)


def freshness(actor: Actor, check: StoredCheck, *, engine: Engine | None = None,
              now: datetime | None = None) -> Freshness:
    """Whether ``check`` still describes the records: ``current``; ``old`` (no customer
    changed, but it is older than :data:`FRESH_FOR`: records age into staleness); or
    ``changed`` (a customer was written, deleted or erased since, or the threshold set).

    The data version takes milliseconds and moves with every write; only when it moved are
    the customers' stamp read (a scan of the customers, a quarter of a second at a
    million), so that an order or a contact does not set off a check of every record."""
    require(actor, Capability.EDIT_CUSTOMER)
    engine = engine or get_engine()
    same = (_text(data_version(engine=engine)) == check.version
            or _text(report.data_stamp(actor, engine=engine)) == check.stamp)
    if not same:
        return "changed"
    return "current" if (now or utcnow()) - check.report.as_of < FRESH_FOR else "old"


def check_now(actor: Actor, *, engine: Engine | None = None,
              now: datetime | None = None) -> StoredCheck:
    """Check every live record now, reusing the phone verdicts this process or the stored
    check holds, and store the result in place of the last one."""
    require(actor, Capability.EDIT_CUSTOMER)
    engine = engine or get_engine()
    # Both are taken first: a record written during the check moves them, so the page
    # checks again rather than trust a check that may have missed it.
    version = _text(data_version(engine=engine))
    stamp = _text(report.data_stamp(actor, engine=engine))
    known = report.remembered(engine) or _stored_verdicts(engine)
    checked = report.check_records(actor, engine=engine, now=now, known=known)
    lists = report.first_of_each_list(checked, engine=engine)
    verdicts = checked.verdicts
    values = {"id": 1, "version": version, "stamp": stamp,
              "checked_at": checked.report.as_of,
              "figures": json.dumps(asdict(checked.report), default=datetime.isoformat),
              "lists": json.dumps({_key_of(key): ids for key, ids in lists.items()}),
              "phone_ids": _pack(verdicts.ids), "phone_keys": _pack(verdicts.keys),
              "phone_valid": bytes(verdicts.valid)}
    try:
        with engine.begin() as connection:
            connection.execute(delete(T))
            connection.execute(insert(T).values(values))
    except IntegrityError:  # another server process stored its check at the same moment
        _LOG.info("a concurrent data-quality check was stored first")
    return StoredCheck(version, stamp, checked.report, lists)


def start(actor: Actor, *, engine: Engine | None = None) -> None:
    """Start :func:`check_now` in the background unless one is under way for the database:
    a thread of this process waits (see :func:`running`, :func:`wait`) for a child process
    that runs the check and stores it (see the module)."""
    require(actor, Capability.EDIT_CUSTOMER)
    engine = engine or get_engine()
    _CHECKS.start(_key(engine), partial(_check_in_child, actor, engine), again=True)


def wait(engine: Engine, seconds: float | None = None) -> bool:
    """Wait up to ``seconds`` (default :data:`db.core.background.PAGE_WAIT_S`) for the
    database's background check; whether none runs now."""
    return _CHECKS.wait(_key(engine), seconds)


def running(engine: Engine) -> bool:
    """Whether a background check of the database is under way in this process."""
    return _CHECKS.running(_key(engine))


def failed(engine: Engine) -> bool:
    """Whether this process's last background check of the database failed (the server's
    log says why; the page offers to check again)."""
    return _CHECKS.failed(_key(engine))


def forget() -> None:
    """Wait for the background checks, then drop what this process remembers of them (a
    database emptied or restored under the same URL: tests, a restore)."""
    _CHECKS.forget()
    report.forget_verdicts()


def _check_in_child(actor: Actor, engine: Engine) -> StoredCheck:
    """Run :func:`check_now` in a child process and read what it stored; raise when the
    child failed (it logged why) or stored nothing."""
    url = engine.url.render_as_string(hide_password=False)
    run_in_child(_check_url, url, actor.username, actor.role, name="quality check")
    check = latest(actor, engine=engine)
    if check is None:
        raise RuntimeError("the data-quality check ended without storing its result")
    return check


def _check_url(url: str, username: str, role: str) -> None:
    """In the child process: check the database at ``url`` as the given actor and store it
    (the derived ``quality_check`` table only: no audit key is needed)."""
    engine = get_engine(url)
    try:
        check_now(Actor(username, role), engine=engine)
    finally:
        engine.dispose()  # close its connections before the child exits


def _key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _text(stamp: tuple[Any, ...]) -> str:
    return json.dumps([str(part) for part in stamp])


def _key_of(key: tuple[str, str | None]) -> str:
    return f"{key[0]}:{key[1] or ''}"


def _list_of(key: str) -> tuple[str, str | None]:
    check, _, field = key.partition(":")
    return check, field or None


def _report_of(figures: str) -> QualityReport:
    values = json.loads(figures)
    for name in ("stale_before", "as_of"):
        values[name] = datetime.fromisoformat(values[name])
    return QualityReport(**values)


def _stored_verdicts(engine: Engine) -> PhoneVerdicts | None:
    with engine.connect() as connection:
        row = connection.execute(select(T.c.phone_ids, T.c.phone_keys, T.c.phone_valid)).first()
    if row is None:
        return None
    return PhoneVerdicts(_unpack("q", row.phone_ids), _unpack("Q", row.phone_keys),
                         bytearray(row.phone_valid))


def _pack(values: array[int]) -> bytes:
    """Little-endian whatever the machine, so a database moved to another one still reads."""
    if sys.byteorder == "big":
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def _unpack(typecode: str, data: bytes) -> array[int]:
    values = array(typecode)
    values.frombytes(data)
    if sys.byteorder == "big":
        values.byteswap()
    return values


# The checks run in the background, one per database at a time; the page reads the stored
# result (:func:`latest`), so only the newest is kept here.
_CHECKS: background.Computed[StoredCheck] = background.Computed("quality check", keep=1)
load_in_forkserver(__name__)  # its checks' children start with this module loaded
