"""Customer exports: the one export policy and the one spreadsheet-safe writer.

Every download of customer rows — a segment's members, a lookup's results, a customer's
record, the whole customer table — goes through here, so they all follow the same rules:

- exporting is the segment right (``Capability.SEGMENTS``: admin, manager, marketing);
- only customers who granted email-marketing consent are exported, unless an admin asks
  for everyone (``Capability.EXPORT_WITHOUT_CONSENT``), which the caller audits as such;
- a customer who objected ("do not contact") or whose processing is restricted is never
  exported, whoever asks (:func:`contactable`); each export counts them (:func:`withheld`)
  so the page can say how many were left out and why;
- every list of customers has the same columns, and no cell runs as a spreadsheet formula.

A file of several parts (a customer's record) is a workbook with a sheet per part, or a zip
of one CSV per part (:func:`write_parts`); a table too large to hold is written batch by
batch into a file (:func:`stream_csv`, :func:`stream_excel`).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

import openpyxl
import pandas as pd
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import ColumnElement, Connection, and_, func, select

from db.core.access import Actor, Capability, require
from db.core.sql import table_of
from db.core.types import utcnow
from db.derived.models import CustomerSummary, customer_rows
from db.models import Customer

C = table_of(Customer).c
S = table_of(CustomerSummary).c
EXPORT_FORMATS = ("csv", "xlsx")
EXCEL_MAX_ROWS = 1_048_575  # one header row + this many fit on a worksheet
COLUMNS = ["customer_id", "first_name", "last_name", "email", "phone", "street", "postcode",
           "city", "country", "email_consent"]
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PHONE_NUMBER = re.compile(r"\+[0-9]+")


class ExportError(ValueError):
    """The export cannot be made as asked; the message says why, in plain words."""


@dataclass(frozen=True)
class ExportFile:
    """A ready download: its bytes, a file name, the MIME type and how many rows it holds."""

    data: bytes
    filename: str
    mime: str
    rows: int
    # Customers left out because they objected or their processing is restricted.
    withheld: int = 0


def check(actor: Actor, *, fmt: str, include_without_consent: bool) -> None:
    """Refuse an export the actor's role or the format does not allow."""
    require(actor, Capability.SEGMENTS)
    if include_without_consent:
        require(actor, Capability.EXPORT_WITHOUT_CONSENT)
    if fmt not in EXPORT_FORMATS:
        raise ExportError("Choose CSV or Excel.")


def contactable() -> ColumnElement[bool]:
    """Over :func:`~db.derived.models.customer_rows`: neither marked "do not contact" nor
    restricted (the summary's copies of :class:`db.models.CustomerRestriction`). No export
    holds anyone else, whoever asks and whatever they include."""
    return and_(S.do_not_contact.is_(False), S.restricted.is_(False))


def _consented(where: ColumnElement[bool], include_without_consent: bool
               ) -> ColumnElement[bool]:
    if include_without_consent:
        return where
    return and_(where, S.consent_email_marketing.is_(True))


def exportable(where: ColumnElement[bool], *, include_without_consent: bool
               ) -> ColumnElement[bool]:
    """``where`` (over :func:`~db.derived.models.customer_rows`) narrowed to the customers who
    granted email-marketing consent, unless everyone was asked for, and always to those who
    may be exported at all (:func:`contactable`)."""
    return and_(_consented(where, include_without_consent), contactable())


def withheld(connection: Connection, where: ColumnElement[bool], *,
             include_without_consent: bool = True) -> int:
    """How many customers matching ``where`` the consent rule would export but
    :func:`contactable` leaves out (they objected, or their processing is restricted)."""
    return connection.execute(
        select(func.count()).select_from(customer_rows())
        .where(_consented(where, include_without_consent), ~contactable())).scalar_one()


def customer_frame(connection: Connection, where: ColumnElement[bool]) -> pd.DataFrame:
    """The exported columns of the customers matching ``where``, by id."""
    return pd.DataFrame(connection.execute(
        select(C.id, C.first_name, C.last_name, C.email, C.phone, C.street, C.postcode,
               C.city, C.country, S.consent_email_marketing.is_(True))
        .select_from(customer_rows()).where(where).order_by(C.id)).all(), columns=COLUMNS)


def neutralise(value: object) -> object:
    """CSV text a spreadsheet would run as a formula gets a leading apostrophe (OWASP's
    advice). A phone number such as ``+4930123456`` is left as it is: digits after a plus
    sign cannot call anything."""
    if (isinstance(value, str) and value.startswith(_FORMULA_STARTS)
            and not _PHONE_NUMBER.fullmatch(value)):
        return "'" + value
    return value


def restored(text: str) -> str:
    """:func:`neutralise` undone: the apostrophe it put before a formula character is
    dropped, as a spreadsheet drops it, so a file this app exported imports as it was."""
    if text.startswith("'") and text[1:].startswith(_FORMULA_STARTS):
        return text[1:]
    return text


def spreadsheet_csv(frame: pd.DataFrame) -> bytes:
    """``frame`` as CSV that a spreadsheet opens safely: every text cell passed through
    :func:`neutralise`, UTF-8 with a BOM (which tells Excel the encoding)."""
    safe = pd.concat([_neutralised(frame.iloc[:, position])
                      for position in range(frame.shape[1])], axis=1) if frame.shape[1] else frame
    return safe.to_csv(index=False, header=list(frame.columns)).encode("utf-8-sig")


def _neutralised(column: pd.Series) -> pd.Series:
    """A column with its text cells neutralised. Only text columns change, and they stay
    objects: mapping a whole frame lets pandas turn a column of ids with gaps into floats
    (``1.0``)."""
    if column.dtype != object and not pd.api.types.is_string_dtype(column):
        return column
    return pd.Series([neutralise(value) for value in column], index=column.index,
                     dtype=object, name=column.name)


def _cell(sheet: WriteOnlyWorksheet, value: object) -> object:
    """``value`` as an Excel cell: text typed as text, so none runs as a formula (openpyxl
    would otherwise store ``=...`` as one); a UTC time without its zone, which Excel cannot
    hold; NumPy and pandas scalars as Python's."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return None
    if isinstance(value, str):
        text = WriteOnlyCell(sheet, value=value)
        text.data_type = "s"
        return text
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value.item() if hasattr(value, "item") else value


def _append(sheet: WriteOnlyWorksheet, frame: pd.DataFrame) -> None:
    for row in frame.itertuples(index=False):
        sheet.append([_cell(sheet, value) for value in row])


def _workbook(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """An .xlsx file with a sheet per entry, named by its key, formula-safe by :func:`_cell`."""
    workbook = openpyxl.Workbook(write_only=True)
    for name, frame in sheets.items():
        sheet = workbook.create_sheet(name[:31])
        sheet.append(list(frame.columns))
        _append(sheet, frame)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _excel(frame: pd.DataFrame, sheet_name: str) -> bytes:
    """``frame`` as an .xlsx file of one sheet whose text cells are all typed as text."""
    return _workbook({sheet_name: frame})


def filename(name: str, *, fallback: str, ext: str) -> str:
    """A download's name: ``name`` in letters, digits and dashes (or ``fallback``), today."""
    stem = "-".join("".join(ch if ch.isalnum() else " " for ch in name).split())
    return f"{stem[:60] or fallback}-{utcnow():%Y-%m-%d}.{ext}"


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def fits_excel(rows: int, *, rows_are: str) -> None:
    """Refuse ``rows`` rows for an Excel sheet when they do not fit on one."""
    if rows > EXCEL_MAX_ROWS:
        raise ExportError(f"{rows:,} {rows_are} do not fit on an Excel sheet "
                          f"({EXCEL_MAX_ROWS:,} at most); export CSV instead.")


def write(frame: pd.DataFrame, *, fmt: str, name: str, fallback: str, rows_are: str,
          withheld: int = 0) -> ExportFile:
    """``frame`` as a formula-safe CSV or Excel file named after ``name`` (or ``fallback``)
    and today; ``rows_are`` names what a row is ("members"), for the sheet and messages;
    ``withheld`` is how many :func:`contactable` left out, carried for the page."""
    if fmt == "xlsx":
        fits_excel(len(frame), rows_are=rows_are)
    if fmt == "csv":
        data = spreadsheet_csv(frame)
        mime = "text/csv"
    else:
        data = _excel(frame, rows_are.capitalize())
        mime = XLSX_MIME
    return ExportFile(data=data, filename=filename(name, fallback=fallback, ext=fmt),
                      mime=mime, rows=len(frame), withheld=withheld)


def write_parts(parts: Mapping[str, pd.DataFrame], *, fmt: str, name: str, fallback: str
                ) -> ExportFile:
    """Several tables in one download: an Excel workbook with a sheet per part, or a zip
    of one formula-safe CSV per part (``<part>.csv``); ``rows`` counts them all."""
    if fmt == "csv":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for part, frame in parts.items():
                archive.writestr(f"{part.replace(' ', '_')}.csv", spreadsheet_csv(frame))
        data, mime, ext = buffer.getvalue(), "application/zip", "zip"
    else:
        data, mime, ext = _workbook(parts), XLSX_MIME, "xlsx"
    return ExportFile(data=data, filename=filename(name, fallback=fallback, ext=ext),
                      mime=mime, rows=sum(len(frame) for frame in parts.values()))


def stream_csv(out: BinaryIO, columns: list[str], batches: Iterable[pd.DataFrame]) -> int:
    """Write a formula-safe CSV (UTF-8 with BOM, as :func:`spreadsheet_csv`) to ``out`` one
    batch at a time, so only one batch is ever held; returns the rows written."""
    out.write(spreadsheet_csv(pd.DataFrame(columns=columns)))
    rows = 0
    for batch in batches:
        out.write(batch.map(neutralise).to_csv(index=False, header=False).encode("utf-8"))
        rows += len(batch)
    return rows


def stream_excel(out: BinaryIO, columns: list[str], batches: Iterable[pd.DataFrame], *,
                 rows_are: str) -> int:
    """Write an .xlsx file of one sheet to ``out`` batch by batch (openpyxl's write-only
    mode keeps written rows on disk, not in memory); refuses more than
    :data:`EXCEL_MAX_ROWS` rows, as :func:`write` does. Returns the rows written."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(rows_are.capitalize())
    sheet.append(columns)
    rows = 0
    for batch in batches:
        rows += len(batch)
        fits_excel(rows, rows_are=rows_are)
        _append(sheet, batch)
    workbook.save(out)
    return rows
