"""Exporting a customer's complete record and the whole customer table: who may, what the
files hold (hostile text neutralised in every cell), one audit event each, and the table
written batch by batch."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from db import exports
from db.core.access import PermissionDenied
from db.core.engine import write_session
from db.core.types import utcnow
from db.customers import export, profile
from db.customers.service import CustomerDeleted, soft_delete_customer
from db.exports import ExportError
from db.models import AuditEvent, Feedback, PaymentMethod
from tests import factories
from tests.factories import ADMIN, MANAGER, MARKETING

HOSTILE = ('=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "@SUM(A1:A9)")


@pytest.fixture
def hostile(engine: Engine) -> int:
    """A customer whose typed text would run as formulas, with a row in every part."""
    link, command, total = HOSTILE
    customer = factories.customer(engine, link, command, city=total, street="-2+3",
                                  email="eve@example.com", phone="+4930123456",
                                  occupation=link, birth_date="1990-02-03")
    factories.order(engine, customer.id, "49.90", product=link, category=total)
    factories.order(engine, customer.id, "-9.90", product=command, category="books",
                    ordered_at=utcnow() - timedelta(days=3))
    factories.contact(engine, customer.id, subject=command)
    profile.record_consent(ADMIN, customer.id, purpose="email_marketing", granted=True,
                           source="form", notice_version=total, engine=engine)
    profile.set_tags(ADMIN, customer.id, ["vip", "newsletter"], engine=engine)
    with write_session(engine) as session:
        session.add(Feedback(customer_id=customer.id, at=utcnow(), nps_score=9, comment=link))
        session.add(PaymentMethod(customer_id=customer.id, brand="visa", last4="4242",
                                  exp_month=1, exp_year=2030, processor_token="tok_secret"))
    assert customer.id is not None
    return customer.id


def _events(engine: Engine, action: str) -> list[tuple[str, str | None, dict]]:
    with Session(engine) as session:
        events = session.execute(select(AuditEvent).where(AuditEvent.action == action)
                                 .order_by(AuditEvent.id)).scalars()
        return [(e.actor, e.entity_id, json.loads(e.changes)) for e in events]


def _texts(values: list[object]) -> list[str]:
    return [value for value in values if isinstance(value, str)]


def test_a_record_as_a_workbook_has_a_sheet_per_part_and_no_formula(
        engine: Engine, hostile: int) -> None:
    exported = export.export_record(MANAGER, hostile, fmt="xlsx", engine=engine)
    assert exported.filename.startswith(f"customer-{hostile}-")
    assert exported.filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(exported.data))
    assert book.sheetnames == ["customer", "orders", "interactions", "consent history",
                               "tags", "feedback", "payment methods"]
    sheet = {name: [list(row) for row in book[name].iter_rows()] for name in book.sheetnames}
    header = [cell.value for cell in sheet["customer"][0]]
    assert header == ["customer_id", *export.ALL_CUSTOMER_COLUMNS, "updated_at"]
    values = dict(zip(header, (cell.value for cell in sheet["customer"][1]), strict=True))
    assert (values["first_name"], values["last_name"], values["city"], values["street"]) == (
        HOSTILE[0], HOSTILE[1], HOSTILE[2], "-2+3")
    # Every text cell of every sheet is text, not a formula: as typed, and typed as text.
    cells = [cell for rows in sheet.values() for row in rows[1:] for cell in row]
    assert {cell.data_type for cell in cells if isinstance(cell.value, str)} == {"s"}
    assert {HOSTILE[0], HOSTILE[1]} <= {cell.value for cell in cells}
    assert [[c.value for c in row] for row in sheet["tags"][1:]] == [["newsletter"], ["vip"]]
    assert [row[1].value for row in sheet["payment methods"][1:]] == ["•••• 4242"]
    assert len(sheet["orders"]) == 3 and len(sheet["interactions"]) == 2
    assert _events(engine, "customer.export_record") == [(MANAGER.username, str(hostile), {
        "format": "xlsx", "rows": 9, "rows of customer": 1,
        "rows of orders": 2, "rows of interactions": 1, "rows of consent history": 1,
        "rows of tags": 2, "rows of feedback": 1, "rows of payment methods": 1})]


def test_a_record_as_csv_is_a_zip_of_one_neutralised_csv_per_part(
        engine: Engine, hostile: int) -> None:
    exported = export.export_record(ADMIN, hostile, fmt="csv", engine=engine)
    assert exported.mime == "application/zip" and exported.filename.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(exported.data)) as archive:
        assert archive.namelist() == ["customer.csv", "orders.csv", "interactions.csv",
                                      "consent_history.csv", "tags.csv", "feedback.csv",
                                      "payment_methods.csv"]
        parts = {name: list(csv.DictReader(io.StringIO(
            archive.read(name).decode("utf-8-sig")))) for name in archive.namelist()}
    person = parts["customer.csv"][0]
    assert [person["first_name"], person["last_name"], person["city"], person["phone"]] == [
        "'" + HOSTILE[0], "'" + HOSTILE[1], "'" + HOSTILE[2], "+4930123456"]
    cells = [value for rows in parts.values() for row in rows for value in row.values()]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "@"))
                and cell != "+4930123456"]
    assert {"'" + HOSTILE[0], "'" + HOSTILE[1]} <= set(cells)
    assert [row["amount"] for row in parts["orders.csv"]] == ["49.90", "-9.90"]
    assert _events(engine, "customer.export_record")[0][2]["format"] == "csv"


def test_marketing_gets_what_the_profile_shows_marketing(engine: Engine, hostile: int) -> None:
    exported = export.export_record(MARKETING, hostile, fmt="xlsx", engine=engine)
    names = openpyxl.load_workbook(io.BytesIO(exported.data)).sheetnames
    assert "payment methods" not in names
    assert names == ["customer", "orders", "interactions", "consent history", "tags",
                     "feedback"]
    assert "tok_secret" not in str(exported.data)


def test_a_deleted_customer_or_another_format_is_refused_and_not_audited(
        engine: Engine, hostile: int) -> None:
    with pytest.raises(ExportError):
        export.export_record(MANAGER, hostile, fmt="pdf", engine=engine)
    soft_delete_customer(ADMIN, hostile, engine=engine)
    with pytest.raises(CustomerDeleted):
        export.export_record(ADMIN, hostile, engine=engine)
    assert _events(engine, "customer.export_record") == []


def _all(engine: Engine, fmt: str = "csv", **options: object) -> tuple[bytes, int]:
    out = io.BytesIO()
    rows = export.export_all_customers(ADMIN, out, fmt=fmt, engine=engine, **options)
    return out.getvalue(), rows


def test_only_admins_export_every_customer(engine: Engine, hostile: int) -> None:
    for actor in (MANAGER, MARKETING):
        with pytest.raises(PermissionDenied):
            export.export_all_customers(actor, io.BytesIO(), engine=engine)
    assert _events(engine, "customer.export_all") == []


def test_every_customer_with_every_importable_field_neutralised_and_audited(
        engine: Engine, hostile: int) -> None:
    plain = factories.customer(engine, "Ann", "Lee", country="AT", external_ref="SHOP-7",
                               email="ann@example.com", gender="female", source="web",
                               income_band="25-50k", preferred_channel="email", status="active")
    gone = factories.customer(engine, "Gone", "Away")
    soft_delete_customer(ADMIN, gone.id, engine=engine)
    data, rows = _all(engine)
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads it as UTF-8
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == list(export.ALL_CUSTOMER_COLUMNS) and rows == len(table) - 1 == 2
    first, second = (dict(zip(table[0], row, strict=True)) for row in table[1:])
    assert [first["first_name"], first["last_name"], first["city"], first["occupation"],
            first["birth_date"]] == ["'" + HOSTILE[0], "'" + HOSTILE[1], "'" + HOSTILE[2],
                                     "'" + HOSTILE[0], "1990-02-03"]
    assert {name: second[name] for name in ("external_ref", "email", "country", "gender",
                                            "income_band", "preferred_channel", "status",
                                            "source")} == {
        "external_ref": "SHOP-7", "email": "ann@example.com", "country": "AT",
        "gender": "female", "income_band": "25-50k", "preferred_channel": "email",
        "status": "active", "source": "web"}
    assert second["created_at"] == plain.created_at.isoformat()  # exact, for a re-import
    assert _events(engine, "customer.export_all") == [(ADMIN.username, None, {
        "format": "csv", "rows": 2, "withheld": 0,
        "columns": list(export.ALL_CUSTOMER_COLUMNS), "without_consent": True})]


def test_every_customer_as_excel_keeps_text_as_text(engine: Engine, hostile: int) -> None:
    data, rows = _all(engine, "xlsx", batch_size=1)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    header, row = ([cell for cell in line] for line in sheet.iter_rows())
    assert [cell.value for cell in header] == list(export.ALL_CUSTOMER_COLUMNS)
    assert [(cell.value, cell.data_type) for cell in row[1:3]] == [
        (HOSTILE[0], "s"), (HOSTILE[1], "s")]
    assert rows == 1


def test_excel_is_refused_up_front_when_the_customers_do_not_fit(
        engine: Engine, hostile: int, monkeypatch: pytest.MonkeyPatch) -> None:
    factories.customer(engine, "Second")
    monkeypatch.setattr(exports, "EXCEL_MAX_ROWS", 1)
    out = io.BytesIO()
    with pytest.raises(ExportError, match="2 customers do not fit on an Excel sheet"):
        export.export_all_customers(ADMIN, out, fmt="xlsx", engine=engine)
    assert out.getvalue() == b"" and _events(engine, "customer.export_all") == []


class _Recorder(io.BytesIO):
    """An output that notes, at every write, how many batches had been read by then."""

    def __init__(self, read: list[int]) -> None:
        super().__init__()
        self.read = read
        self.writes: list[int] = []

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.writes.append(len(self.read))
        return super().write(data)


def test_the_whole_table_is_read_and_written_one_batch_at_a_time(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    for index in range(7):
        factories.customer(engine, f"P{index}")
    read: list[int] = []
    batches = export._batches

    def counted(connection: object, batch_size: int):  # type: ignore[no-untyped-def]
        for batch in batches(connection, batch_size):  # type: ignore[arg-type]
            read.append(len(batch))
            yield batch

    monkeypatch.setattr(export, "_batches", counted)
    out = _Recorder(read)
    assert export.export_all_customers(ADMIN, out, batch_size=3, engine=engine) == 7
    assert read == [3, 3, 1]
    # The header, then each batch written before the next one is read.
    assert out.writes == [0, 1, 2, 3]
    names = [row[1] for row in csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig")))]
    assert names == ["first_name", *(f"P{index}" for index in range(7))]
