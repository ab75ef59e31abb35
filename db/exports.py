"""Customer exports: the one export policy and the one spreadsheet-safe writer.

Every download of customer rows — a segment's members, a lookup's results — goes through
here, so they all follow the same rules:

- exporting is the segment right (``Capability.SEGMENTS``: admin, manager, marketing);
- only customers who granted email-marketing consent are exported, unless an admin asks
  for everyone (``Capability.EXPORT_WITHOUT_CONSENT``), which the caller audits as such;
- every file has the same columns, and no cell runs as a spreadsheet formula.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import openpyxl
import pandas as pd
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import ColumnElement, Connection, and_, select

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


def check(actor: Actor, *, fmt: str, include_without_consent: bool) -> None:
    """Refuse an export the actor's role or the format does not allow."""
    require(actor, Capability.SEGMENTS)
    if include_without_consent:
        require(actor, Capability.EXPORT_WITHOUT_CONSENT)
    if fmt not in EXPORT_FORMATS:
        raise ExportError("Choose CSV or Excel.")


def exportable(where: ColumnElement[bool], *, include_without_consent: bool
               ) -> ColumnElement[bool]:
    """``where`` (over :func:`~db.derived.models.customer_rows`) narrowed to the customers who
    granted email-marketing consent, unless everyone was asked for."""
    if include_without_consent:
        return where
    return and_(where, S.consent_email_marketing.is_(True))


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


def spreadsheet_csv(frame: pd.DataFrame) -> bytes:
    """``frame`` as CSV that a spreadsheet opens safely: every text cell passed through
    :func:`neutralise`, UTF-8 with a BOM (which tells Excel the encoding)."""
    return frame.map(neutralise).to_csv(index=False).encode("utf-8-sig")


def _excel(frame: pd.DataFrame, sheet_name: str) -> bytes:
    """An .xlsx file whose text cells are all typed as text, so none runs as a formula
    (openpyxl would otherwise store ``=...`` as one)."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name)
    sheet.append(list(frame.columns))

    def cell(value: object) -> object:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return None
        if isinstance(value, str):
            text = WriteOnlyCell(sheet, value=value)
            text.data_type = "s"
            return text
        return value.item() if hasattr(value, "item") else value

    for row in frame.itertuples(index=False):
        sheet.append([cell(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write(frame: pd.DataFrame, *, fmt: str, name: str, fallback: str, rows_are: str
          ) -> ExportFile:
    """``frame`` as a formula-safe CSV or Excel file named after ``name`` (or ``fallback``)
    and today; ``rows_are`` names what a row is ("members"), for the sheet and messages."""
    if fmt == "xlsx" and len(frame) > EXCEL_MAX_ROWS:
        raise ExportError(f"{len(frame):,} {rows_are} do not fit on an Excel sheet "
                          f"({EXCEL_MAX_ROWS:,} at most); export CSV instead.")
    stem = "-".join("".join(ch if ch.isalnum() else " " for ch in name).split())
    if fmt == "csv":
        data = spreadsheet_csv(frame)
        mime = "text/csv"
    else:
        data = _excel(frame, rows_are.capitalize())
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return ExportFile(data=data, filename=f"{stem[:60] or fallback}-{utcnow():%Y-%m-%d}.{fmt}",
                      mime=mime, rows=len(frame))
