"""A customer's complete record, and the whole customer table, as files — by the one
spreadsheet-safe writer of :mod:`db.exports`, each export audited once with what was
exported, how many rows and the format.

- :func:`export_record`: one customer's fields, orders, interactions, consent history, tags
  and feedback (and masked payment methods for the roles that see them on the profile):
  exactly what the exporting user's role shows on the profile, as an Excel workbook with a
  sheet per part or a zip of one CSV per part. The basis of a GDPR access request.
- :func:`export_all_customers`: every live customer (admins only), every importable field
  under the names in :data:`ALL_CUSTOMER_COLUMNS`, written batch by batch into a file so a
  million customers never sit in memory at once; Excel only up to
  :data:`db.exports.EXCEL_MAX_ROWS`.

The whole table is every customer, consented or not: an admin's export, audited as such.
Neither export holds a customer who objected ("do not contact") or whose processing is
restricted (:func:`db.exports.contactable`): the whole table leaves them out and counts
them, and such a customer's record is refused with the reason. A subject access request
is not an export in this sense and has its own service.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pandas as pd
from sqlalchemy import Connection, Engine, func, select

from db import exports
from db.audit import trail
from db.core.access import Actor, Capability, operator, require
from db.core.engine import get_engine, write_session
from db.core.sql import table_of
from db.customers import profile
from db.customers.service import get_customer, stored_id
from db.derived.models import customer_rows
from db.models import Customer, live

# Every importable customer field, under the name an import maps it from: the columns of
# the whole-table export, in this order, so that its file imports back as it is.
ALL_CUSTOMER_COLUMNS = ("external_ref", "first_name", "last_name", "email", "phone", "street",
                        "postcode", "city", "country", "birth_date", "gender", "occupation",
                        "income_band", "preferred_channel", "status", "source", "created_at")
# Customers read and written per batch by the whole-table export.
BATCH_SIZE = 10_000
C = table_of(Customer).c


def _part(rows: list[dict[str, object]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def record_parts(actor: Actor, customer_id: int, *, engine: Engine | None = None
                 ) -> dict[str, pd.DataFrame]:
    """The parts of a customer's record the actor's role sees on the profile, by name."""
    customer = get_customer(actor, customer_id, engine=engine)
    orders = profile.orders(actor, customer_id, limit=None, engine=engine)
    contacts = profile.interactions(actor, customer_id, limit=None, engine=engine)
    consent = profile.consent_history(actor, customer_id, engine=engine)
    answers = profile.feedback(actor, customer_id, engine=engine)
    fields = ["customer_id", *ALL_CUSTOMER_COLUMNS, "updated_at"]
    parts = {
        "customer": _part([{"customer_id": stored_id(customer)}
                           | {name: getattr(customer, name) for name in fields[1:]}], fields),
        "orders": _part([{"order_id": o.id, "external_ref": o.external_ref,
                          "ordered_at": o.ordered_at, "amount": o.amount,
                          "currency": o.currency, "category": o.category,
                          "product": o.product, "quantity": o.quantity,
                          "channel": o.channel} for o in orders],
                        ["order_id", "external_ref", "ordered_at", "amount", "currency",
                         "category", "product", "quantity", "channel"]),
        "interactions": _part([{"at": i.at, "kind": i.kind, "direction": i.direction,
                                "subject": i.subject, "summary": i.summary,
                                "outcome": i.outcome, "logged_at": i.logged_at}
                               for i in contacts],
                              ["at", "kind", "direction", "subject", "summary", "outcome",
                               "logged_at"]),
        "consent history": _part([{"at": e.at, "purpose": e.purpose, "granted": e.granted,
                                   "source": e.source, "notice_version": e.notice_version}
                                  for e in consent],
                                 ["at", "purpose", "granted", "source", "notice_version"]),
        "tags": _part([{"tag": name} for name in profile.tags(actor, customer_id,
                                                               engine=engine)], ["tag"]),
        "feedback": _part([{"at": f.at, "nps_score": f.nps_score, "comment": f.comment}
                           for f in answers], ["at", "nps_score", "comment"]),
    }
    if actor.can(Capability.VIEW_PAYMENT_DETAILS):
        parts["payment methods"] = _part(
            [{"brand": c.brand, "card": c.masked_number, "expiry": c.expiry,
              "expired": c.expired}
             for c in profile.payment_methods(actor, customer_id, engine=engine)],
            ["brand", "card", "expiry", "expired"])
    return parts


def export_record(actor: Actor, customer_id: int, *, fmt: str = "xlsx",
                  engine: Engine | None = None) -> exports.ExportFile:
    """A customer's complete record as the actor's role sees it on the profile: an Excel
    workbook with a sheet per part (``xlsx``) or a zip of one CSV per part (``csv``),
    formulas neutralised; audited as ``customer.export_record`` with the rows in all and
    per part."""
    exports.check(actor, fmt=fmt, include_without_consent=False)
    engine = engine or get_engine()
    with engine.connect() as connection:
        if exports.withheld(connection, exports.C.id == customer_id):
            raise exports.ExportError(
                f"Customer {customer_id} objected to contact or their processing is "
                "restricted (see the marker at the top of the profile): their record is "
                "not exported.")
    parts = record_parts(actor, customer_id, engine=engine)
    exported = exports.write_parts(parts, fmt=fmt, name=f"customer {customer_id}",
                                   fallback="customer")
    with write_session(engine) as session:
        trail.record(session, actor=actor.username, action="customer.export_record",
                     entity="customer", entity_id=customer_id,
                     changes={"format": fmt, "rows": exported.rows,
                              **{f"rows of {name}": len(frame)
                                 for name, frame in parts.items()}},
                     source="form")
    return exported


def _batches(connection: Connection, batch_size: int) -> Iterator[pd.DataFrame]:
    """Every exportable live customer's :data:`ALL_CUSTOMER_COLUMNS`, by id, ``batch_size``
    at a time (each batch a fresh query after the last id: no cursor held open between
    them)."""
    after = 0
    while True:
        rows = connection.execute(
            select(C.id, *(C[name] for name in ALL_CUSTOMER_COLUMNS))
            .select_from(customer_rows())
            .where(live(), exports.contactable(), C.id > after).order_by(C.id)
            .limit(batch_size)).all()
        if not rows:
            return
        after = rows[-1][0]
        frame = pd.DataFrame([row[1:] for row in rows], columns=list(ALL_CUSTOMER_COLUMNS))
        # ISO text to the microsecond in both formats: an Excel date cell would keep
        # milliseconds at best, and a re-import must give back the same "customer since".
        frame["created_at"] = [value.isoformat() for value in frame["created_at"]]
        yield frame
        if len(rows) < batch_size:
            return


def export_all_customers(actor: Actor, out: BinaryIO, *, fmt: str = "csv",
                         batch_size: int = BATCH_SIZE, engine: Engine | None = None) -> int:
    """Write every live customer, consented or not, to ``out`` as CSV or Excel with the
    columns :data:`ALL_CUSTOMER_COLUMNS` (admins only), ``batch_size`` customers at a time;
    audited as ``customer.export_all`` with the rows and format. Returns the rows written.
    Customers who objected or whose processing is restricted are left out (and counted in
    the audit event; :func:`all_customers_file` reports them too).

    Excel is refused up front (nothing written) when the customers do not fit on a sheet.
    """
    return _export_all(actor, out, fmt=fmt, batch_size=batch_size, engine=engine)[0]


def _export_all(actor: Actor, out: BinaryIO, *, fmt: str, batch_size: int = BATCH_SIZE,
                engine: Engine | None = None) -> tuple[int, int]:
    """:func:`export_all_customers`, returning the rows written and the customers withheld."""
    require(actor, Capability.ADMINISTER)
    exports.check(actor, fmt=fmt, include_without_consent=True)
    engine = engine or get_engine()
    columns = list(ALL_CUSTOMER_COLUMNS)
    with engine.connect() as connection:
        withheld = exports.withheld(connection, live())
        if fmt == "xlsx":
            count = connection.execute(select(func.count()).select_from(table_of(Customer))
                                       .where(live())).scalar_one()
            exports.fits_excel(count - withheld, rows_are="customers")
            rows = exports.stream_excel(out, columns, _batches(connection, batch_size),
                                        rows_are="customers")
        else:
            rows = exports.stream_csv(out, columns, _batches(connection, batch_size))
    with write_session(engine) as session:
        trail.record(session, actor=actor.username, action="customer.export_all",
                     entity="customer",
                     changes={"format": fmt, "rows": rows, "withheld": withheld,
                              "columns": columns, "without_consent": True}, source="form")
    return rows, withheld


def all_customers_file(actor: Actor, *, fmt: str = "csv", engine: Engine | None = None
                       ) -> exports.ExportFile:
    """:func:`export_all_customers` as a download (``customers-<today>.csv`` or ``.xlsx``).

    The file is written batch by batch to a temporary file on disk; only the finished file
    is read back, because a download hands the browser its bytes at once. For tables too
    large for that, run ``python -m db.customers.export FILE`` on the server.
    """
    with tempfile.TemporaryFile() as out:
        rows, withheld = _export_all(actor, out, fmt=fmt, engine=engine)
        out.seek(0)
        data = out.read()
    return exports.ExportFile(
        data=data, filename=exports.filename("customers", fallback="customers", ext=fmt),
        mime="text/csv" if fmt == "csv" else exports.XLSX_MIME, rows=rows, withheld=withheld)


def main(argv: list[str] | None = None) -> int:
    """``python -m db.customers.export FILE``: every live customer into FILE (``.csv`` or
    ``.xlsx``), as the operator (an admin), audited like the page's export."""
    parser = argparse.ArgumentParser(prog="python -m db.customers.export",
                                     description="Export every customer to a CSV or Excel "
                                                 "file with the importable columns.")
    parser.add_argument("file", type=Path, help="where to write; .csv or .xlsx")
    args = parser.parse_args(argv)
    fmt = args.file.suffix.lower().lstrip(".")
    if fmt not in exports.EXPORT_FORMATS:
        parser.error("the file must end in .csv or .xlsx")
    try:
        with args.file.open("wb") as out:
            rows, withheld = _export_all(operator(), out, fmt=fmt)
    except exports.ExportError as error:
        args.file.unlink(missing_ok=True)
        parser.exit(1, f"{error}\n")
    print(f"{rows:,} customers written to {args.file}")
    if withheld:
        print(f"{withheld:,} left out: they objected to contact or their processing is "
              "restricted")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
