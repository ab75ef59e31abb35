"""The import engine: check a file (nothing written) or commit it (all accepted rows, or none).

Both walk the same pipeline over the file's chunks (:func:`db.imports.reading.chunks`): each
row is read by :mod:`db.imports.rows`, matched against the stored customers and the rows
before it in the file, and counted as new, updated, unchanged or rejected (with its line, its
original cells and the reason). :func:`check` stops there; :func:`commit` also writes each
chunk, all inside one transaction with the import's audit events, so a killed process or any
error leaves the database as it was. Because both take the same decisions in the same order,
the counts the check shows are the counts the commit writes (unless someone else writes
meanwhile, which the commit, holding the write lock, then sees).

Derived data: a file of up to :data:`INCREMENTAL_ROWS` rows is written a few thousand
customers at a time, each part inside :func:`db.derived.hook.customers_changed`, so the
touched customers' summary, KPI and search rows move with them and the import costs what it
touches. A larger file (or one whose rows were not counted) is written without them and the
derived tables are rebuilt once at the end, in the same transaction: moving tens of
thousands of customers' shares one part at a time took several times longer (bench/).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

import pandas as pd
from sqlalchemy import Engine, text, update
from sqlmodel import Session, col

from db.audit import trail
from db.core.access import Actor, Capability, require
from db.core.engine import read_session, write_session
from db.core.types import utcnow
from db.derived import kpi_tables, search_index, summary
from db.derived.hook import customers_changed
from db.exports import spreadsheet_csv
from db.imports.activity import InteractionJudge, OrderJudge
from db.imports.consent import mapped as consent_mapped
from db.imports.customers import CustomerJudge
from db.imports.lookup import Plan
from db.imports.mapping import FIELDS, KINDS, missing_required
from db.imports.models import ImportRun
from db.imports.reading import Table, UnreadableFile, chunks
from db.imports.rows import Options, RowProblem
from db.imports.values import date_order
from db.imports.writing import Writer

INCREMENTAL_ROWS = 20_000
PART_CUSTOMERS = 2_000  # well under the hook's list limit (kpi_tables._LIST_LIMIT)
CHUNK_ROWS = 20_000
KEPT_REJECTS = 10_000  # listed with their cells; every reject is counted
_DATE_FIELDS = {"customers": ("birth_date", "created_at"), "orders": ("ordered_at",),
                "interactions": ("at",)}

Progress = Callable[[int, int | None, float], None]


class Judge(Protocol):
    """Decides what a kind's rows do (:mod:`db.imports.customers`, :mod:`db.imports.activity`):
    ``read`` checks one row, ``decide`` matches a chunk of them and returns its writes."""

    def read(self, cells: dict[str, str], line: int, record: dict[str, str]) -> Any: ...

    def decide(self, rows: list[Any]) -> Plan: ...


JUDGES: dict[str, Callable[..., Judge]] = {
    "customers": CustomerJudge, "orders": OrderJudge, "interactions": InteractionJudge}


class ImportRefused(ValueError):
    """The file as mapped cannot be imported at all; the message says what to change."""


@dataclass(frozen=True)
class Request:
    """What to import: the file (its bytes or path, and what :func:`open_table` found), which
    column feeds which field, and the choices the file leaves open."""

    kind: str
    source: bytes | Path
    table: Table
    mapping: dict[str, str | None]
    options: Options = field(default_factory=Options)


@dataclass(frozen=True)
class Reject:
    """A row left out: its line in the file, why, and its cells as the file had them."""

    line: int
    reason: str
    cells: dict[str, str]


@dataclass
class Outcome:
    """What a check found or a commit wrote. ``created`` counts customers an order file
    created; ``duplicates`` maps a key repeated inside the file to its lines."""

    kind: str
    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    created: int = 0
    consent: int = 0  # consent rows appended (or, in a check, to append)
    rejects: list[Reject] = field(default_factory=list)
    duplicates: dict[str, list[int]] = field(default_factory=dict)
    import_id: int | None = None
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        return {"rows": self.rows, "new": self.new, "updated": self.updated,
                "unchanged": self.unchanged, "rejected": self.rejected,
                "customers_created": self.created, "consent_rows": self.consent}

    def reject(self, line: int, reason: str, cells: dict[str, str]) -> None:
        self.rejected += 1
        if len(self.rejects) < KEPT_REJECTS:
            self.rejects.append(Reject(line, reason, cells))

    def duplicate(self, key: str, first: int, line: int) -> None:
        lines = self.duplicates.setdefault(key, [first])
        if len(self.duplicates) <= KEPT_REJECTS:
            lines.append(line)

    def rejects_file(self, columns: list[str]) -> bytes:
        """The rejected rows as a spreadsheet-safe CSV: line, reason, then the file's cells."""
        frame = pd.DataFrame([{"line": reject.line, "reason": reject.reason,
                               **{column: reject.cells.get(column, "") for column in columns}}
                              for reject in self.rejects],
                             columns=["line", "reason", *columns])
        return spreadsheet_csv(frame)


def refusals(request: Request) -> list[str]:
    """Why ``request`` cannot run as it stands (empty: it can): an unknown kind, a mapping
    naming columns the file does not have or missing a required field, bad options, or
    dates that read two ways while no date order was chosen."""
    if request.kind not in KINDS:
        return [f"Choose what the file holds: {', '.join(KINDS)}."]
    found = []
    fields = {spec.name for spec in FIELDS[request.kind]}
    for name, column in request.mapping.items():
        if name not in fields:
            found.append(f"{name!r} is not a field of a {request.kind} import.")
        elif column and column not in request.table.columns:
            found.append(f"The file has no column {column!r}.")
    supplied = {"country"} if request.options.country else set()  # the options' default
    missing = missing_required(request.kind, {**request.mapping,
                                              **dict.fromkeys(supplied, "(default)")})
    if missing:
        found.append("Map a column to: " + ", ".join(missing) + ".")
    if consent_mapped(request.mapping) and not (request.options.notice_version or "").strip():
        found.append("Name the privacy notice version the consent columns were given "
                     "under.")
    found += request.options.problems()
    if not found and request.options.day_first is None and _ambiguous_dates(request):
        found.append("Some dates, such as 03/05/2024, could be day/month or month/day: "
                     "choose which the file uses.")
    return found


def _ambiguous_dates(request: Request) -> bool:
    columns = [column for name in _DATE_FIELDS[request.kind]
               if (column := request.mapping.get(name))]
    if not columns:
        return False
    first = next(chunks(request.source, request.table, size=CHUNK_ROWS), None)
    return first is not None and any(date_order(first[column]) == "ambiguous"
                                     for column in columns)


def sha256_of(source: bytes | Path) -> str:
    digest = hashlib.sha256()
    if isinstance(source, bytes):
        digest.update(source)
    else:
        with source.open("rb") as stream:
            while block := stream.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


def check(actor: Actor, request: Request, *, engine: Engine | None = None,
          progress: Progress | None = None) -> Outcome:
    """Read and judge every row of the file as :func:`commit` would; write nothing."""
    require(actor, Capability.ADMINISTER)
    _refuse(request)
    with read_session(engine) as session:
        return _walk(session, request, None, progress)


def commit(actor: Actor, request: Request, *, engine: Engine | None = None,
           progress: Progress | None = None) -> Outcome:
    """Write every accepted row of the file in one transaction, with the import's record
    (:class:`ImportRun`), one audit event per touched customer ("changed by import N") and
    one for the import; the summary, KPI tables and search index are current at commit."""
    require(actor, Capability.ADMINISTER)
    _refuse(request)
    started = utcnow()
    digest = sha256_of(request.source)
    with write_session(engine) as session:
        run = ImportRun(kind=request.kind, file_name=request.table.name[:255], sha256=digest,
                        actor=actor.username[:50], mode=request.options.mode,
                        mapping=json.dumps(request.mapping, sort_keys=True),
                        started_at=started)
        session.add(run)
        session.flush()
        assert run.id is not None
        writer = Writer(session, actor.username, run.id)
        outcome = _walk(session, request, writer, progress)
        writer.finish()
        if not _incremental(request):
            summary.rebuild(session)
            kpi_tables.rebuild(session)
            search_index.rebuild(session.connection())
        outcome.import_id = run.id
        session.execute(update(ImportRun).where(col(ImportRun.id) == run.id)
                        .values(counts=json.dumps(outcome.counts()), finished_at=utcnow()))
        trail.record(session, actor=actor.username, action="import.commit", entity="import",
                     entity_id=run.id, source="import",
                     changes={"file": request.table.name, "sha256": digest,
                              "kind": request.kind, "mode": request.options.mode,
                              **({"notice_version": request.options.notice_version}
                                 if consent_mapped(request.mapping) else {}),
                              **outcome.counts()})
    return outcome


def _refuse(request: Request) -> None:
    try:
        problems = refusals(request)
    except UnreadableFile as error:
        raise ImportRefused(str(error)) from None
    if problems:
        raise ImportRefused(" ".join(problems))


def _keep_statistics(session: Session) -> None:
    """On PostgreSQL, let the planner see what this transaction has written so far.

    Its statistics still describe the tables as they were: an import into an empty database
    had every later lookup planned as a scan of a table believed empty, and 100,000
    customers took minutes instead of seconds. ANALYZE counts the transaction's own rows.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE customer, orders, interaction"))


def _incremental(request: Request) -> bool:
    return request.table.rows is not None and request.table.rows <= INCREMENTAL_ROWS


def _walk(session: Session, request: Request, writer: Writer | None,
          progress: Progress | None) -> Outcome:
    outcome = Outcome(request.kind)
    started = time.perf_counter()
    total = request.table.rows
    judge = JUDGES[request.kind](session, request.options, outcome, utcnow(),
                                 writer is not None)
    mapped = {name: column for name, column in request.mapping.items() if column}
    for frame in chunks(request.source, request.table, size=CHUNK_ROWS):
        long_rows = set(frame.attrs.get("long_rows", []))
        accepted = []
        for record in cast(list[dict[str, Any]], frame.to_dict("records")):
            line = int(record.pop("line"))
            outcome.rows += 1
            if line in long_rows:
                outcome.reject(line, "The row has more cells than the header has columns "
                               "(a delimiter inside a value without quotes?).", record)
                continue
            try:
                accepted.append(judge.read({name: record[column]
                                            for name, column in mapped.items()}, line, record))
            except RowProblem as problem:
                outcome.reject(line, str(problem), record)
        plan = judge.decide(accepted)
        if writer is not None:
            if not _incremental(request):
                writer.write(plan)
            else:
                for part in plan.parts(PART_CUSTOMERS):
                    with customers_changed(session, part.customer_ids()):
                        writer.write(part)
            _keep_statistics(session)
        if progress is not None:
            progress(outcome.rows, total, time.perf_counter() - started)
    outcome.rejects.sort(key=lambda reject: reject.line)  # the read's, then the matching's
    outcome.seconds = time.perf_counter() - started
    return outcome
