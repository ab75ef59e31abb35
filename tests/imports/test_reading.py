"""Opening files as teams export them: encodings, delimiters, headers, Excel, and refusals."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from db.imports import reading
from db.imports.reading import Table, UnreadableFile, chunks, open_table


def rows_of(source: bytes | Path, table: Table, size: int = 50_000) -> list[dict[str, object]]:
    return [row for frame in chunks(source, table, size=size)
            for row in frame.to_dict("records")]


GERMAN = "Vorname;Nachname;Straße;Ort;Betrag\nJürgen;Müller;Hauptstraße 5;Köln;12,50\n" \
         "Anna;Groß;Schloßallee 1;Düsseldorf;1.234,56\n"


@pytest.mark.parametrize(("encoded", "encoding"), [
    (GERMAN.encode("utf-8"), "utf-8"),
    (b"\xef\xbb\xbf" + GERMAN.encode("utf-8"), "utf-8-sig"),
    (GERMAN.encode("latin-1"), "cp1252"),
    (GERMAN.encode("cp1252"), "cp1252"),
    (GERMAN.encode("utf-16"), "utf-16"),  # with its byte-order mark (LE on this machine)
    (b"\xfe\xff" + GERMAN.encode("utf-16-be"), "utf-16"),
    (GERMAN.encode("utf-16-le"), "utf-16-le"),  # no mark: told by its zero bytes
])
def test_umlauts_survive_every_encoding_a_spreadsheet_saves(encoded: bytes,
                                                           encoding: str) -> None:
    table = open_table(encoded, name="kunden.csv")
    assert (table.encoding, table.delimiter, table.has_header, table.rows) == (
        encoding, ";", True, 2)
    assert table.columns == ["Vorname", "Nachname", "Straße", "Ort", "Betrag"]
    rows = rows_of(encoded, table)
    assert [row["Nachname"] for row in rows] == ["Müller", "Groß"]
    assert [row["Ort"] for row in rows] == ["Köln", "Düsseldorf"]
    assert [row["line"] for row in rows] == [2, 3]


def test_windows_1252_euro_sign_and_a_utf8_file_whose_first_odd_byte_is_far_in() -> None:
    euro = "Produkt;Preis\nKaffee;3,50 €\nTee;2,00 €\n".encode("cp1252")
    table = open_table(euro, name="preise.csv")
    assert table.encoding == "cp1252"
    assert [row["Preis"] for row in rows_of(euro, table)] == ["3,50 €", "2,00 €"]
    # 200 KB of plain ASCII, then one Latin-1 "ü": the whole file is checked, not a sample.
    late = ("Name,City\n" + "Smith,London\n" * 16_000 + "Müller,München\n").encode("latin-1")
    table = open_table(late, name="late.csv")
    assert table.encoding == "cp1252"
    assert rows_of(late, table)[-1] == {"Name": "Müller", "City": "München", "line": 16_002}


@pytest.mark.parametrize(("text", "delimiter"), [
    ("a,b,c\n1,2,3\n", ","), ("a;b;c\n1;2,5;3\n", ";"), ("a\tb\tc\n1\t2\t3\n", "\t"),
    ("a|b|c\n1|2|3\n", "|"),
    # Decimal commas in every row split as evenly as the semicolons: the semicolon wins.
    ("Anna;12,50\nBen;3,00\n", ";"),
])
def test_the_delimiter_is_the_one_that_splits_every_line_alike(text: str,
                                                               delimiter: str) -> None:
    assert open_table(text.encode(), name="f.csv").delimiter == delimiter


def test_whitespace_separated_numbers_are_columns() -> None:
    text = b"  12.5   7    2024-03-05\n 3.25  11   2024-03-06\n100     0    2024-03-07\n"
    table = open_table(text, name="messwerte.txt")
    assert (table.delimiter, table.has_header) == (reading.WHITESPACE, False)
    assert table.columns == ["Column 1", "Column 2", "Column 3"]
    assert rows_of(text, table)[2] == {"Column 1": "100", "Column 2": "0",
                                       "Column 3": "2024-03-07", "line": 3}


def test_a_quoted_line_break_keeps_the_row_whole_and_the_next_row_its_true_line() -> None:
    text = (b'id,note,amount\r\n1,"first line\r\nsecond line",5\r\n2,"a ""quoted"" word",6\r\n'
            b'\r\n3,"three\nlines\nhere",7\r\n4,plain,8\r\n')
    table = open_table(text, name="notes.csv")
    rows = rows_of(text, table)
    assert [row["note"] for row in rows] == ["first line\r\nsecond line", 'a "quoted" word',
                                             "three\nlines\nhere", "plain"]
    # Header line 1; record 1 spans lines 2-3; line 5 is blank; record 3 spans lines 6-8.
    assert [row["line"] for row in rows] == [2, 4, 6, 9]
    assert table.rows == 4


def test_without_a_header_the_columns_are_numbered_and_the_first_row_is_data() -> None:
    text = "Jürgen;Müller;juergen@example.de;12,50\nAnna;Groß;anna@example.de;3,00\n".encode()
    table = open_table(text, name="f.csv")
    assert (table.has_header, table.columns) == (False, ["Column 1", "Column 2", "Column 3",
                                                         "Column 4"])
    rows = rows_of(text, table)
    assert rows[0]["Column 2"] == "Müller" and [row["line"] for row in rows] == [1, 2]


def test_header_decided_from_the_rows_below_and_overridden_when_asked() -> None:
    labelled = b"first,last,spend\nAnna,Meyer,12.50\nBen,Kurz,3\n"
    assert open_table(labelled, name="f.csv").has_header is True
    names_only = b"Anna,Meyer,Berlin\nBen,Kurz,Hamburg\n"  # text like the rows below it
    assert open_table(names_only, name="f.csv").has_header is False
    known = b"Vorname,Nachname,Ort\nAnna,Meyer,Berlin\n"  # labels that are field names
    assert open_table(known, name="f.csv").has_header is True
    numbers = b"1,2\n3,4\n"
    assert open_table(numbers, name="f.csv").has_header is False
    forced = open_table(names_only, name="f.csv", has_header=True)
    assert forced.columns == ["Anna", "Meyer", "Berlin"]
    assert rows_of(names_only, forced) == [{"Anna": "Ben", "Meyer": "Kurz",
                                            "Berlin": "Hamburg", "line": 2}]


def test_blank_and_repeated_labels_are_made_unique_and_leave_line_to_the_numbers() -> None:
    text = b"Email,,Email,line,Email\na@x.de,1,b@x.de,7,c@x.de\n"
    table = open_table(text, name="f.csv")
    assert table.columns == ["Email", "Column 2", "Email (2)", "line (2)", "Email (3)"]
    assert rows_of(text, table)[0]["line (2)"] == "7"


def test_short_rows_are_padded_long_ones_cut_and_listed_and_empty_ones_skipped() -> None:
    text = b"a;b;c\n1;2;3;\n4;5\n;;\n6;7;8;9;10\n11;12;13;;\n"
    table = open_table(text, name="f.csv")
    assert table.columns == ["a", "b", "c"]
    frames = list(chunks(text, table))
    assert [row for frame in frames for row in frame.to_dict("records")] == [
        {"a": "1", "b": "2", "c": "3", "line": 2}, {"a": "4", "b": "5", "c": "", "line": 3},
        {"a": "6", "b": "7", "c": "8", "line": 5}, {"a": "11", "b": "12", "c": "13", "line": 6}]
    assert frames[0].attrs["long_rows"] == [5]  # the empty cells of lines 2 and 6 are no loss


def test_a_delimiter_ending_every_line_makes_no_column_unless_a_row_fills_it() -> None:
    assert open_table(b"a;b;\n1;2;\n3;4;\n", name="f.csv").columns == ["a", "b"]
    assert open_table(b"a;b;\n1;2;\n3;4;5\n", name="f.csv").columns == ["a", "b", "Column 3"]


def test_every_cell_is_text_exactly_as_written() -> None:
    text = b"ref,plz,amount,empty,flag\n00123,01067,1e3,,NA\n"
    table = open_table(text, name="f.csv")
    frame = next(chunks(text, table))
    assert frame.iloc[0].to_dict() == {"ref": "00123", "plz": "01067", "amount": "1e3",
                                       "empty": "", "flag": "NA", "line": 2}
    assert all(isinstance(value, str) for value in frame.drop(columns="line").iloc[0])
    assert frame["line"].dtype == "int64"


def test_chunks_come_in_the_asked_size_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    path.write_text("n,square\n" + "".join(f"{n},{n * n}\n" for n in range(1, 1001)))
    table = open_table(path, name=path.name)
    frames = list(chunks(path, table, size=300))
    assert [len(frame) for frame in frames] == [300, 300, 300, 100]
    whole = pd.concat(frames)
    assert whole["n"].tolist() == [str(n) for n in range(1, 1001)]
    assert whole["line"].tolist() == list(range(2, 1002))


def _workbook(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    second = workbook.create_sheet("Ignored")
    second.append(["not", "read"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_excel_dates_numbers_and_text_with_leading_zeros(tmp_path: Path) -> None:
    content = _workbook([
        ["Kundennummer", "Geburtsdatum", "Bestellt", "Betrag", "Menge", "PLZ"],
        ["00123", date(1985, 7, 12), datetime(2024, 3, 5, 14, 30), 12.5, 3, "01067"],
        [],
        ["00124", datetime(1990, 1, 2), datetime(2024, 3, 6), 0.1 + 0.2, 2.0, None],
    ])
    path = tmp_path / "kunden.xlsx"
    path.write_bytes(content)
    for source in (content, path):
        table = open_table(source, name="kunden.xlsx")
        assert (table.format, table.has_header, table.encoding, table.delimiter) == (
            "xlsx", True, None, None)
        assert rows_of(source, table) == [
            {"Kundennummer": "00123", "Geburtsdatum": "1985-07-12",
             "Bestellt": "2024-03-05T14:30:00", "Betrag": "12.5", "Menge": "3",
             "PLZ": "01067", "line": 2},
            {"Kundennummer": "00124", "Geburtsdatum": "1990-01-02", "Bestellt": "2024-03-06",
             "Betrag": "0.3", "Menge": "2", "PLZ": "", "line": 4}]


@pytest.mark.parametrize(("content", "message"), [
    (b"", "The file is empty."),
    (b"  \r\n\n  ", "The file is empty."),
    (b"\xef\xbb\xbf", "The file is empty."),
    (b"Vorname;Nachname;E-Mail\n", "The file has a header row but no data rows."),
    (b"Vorname;Nachname;E-Mail\n\n;;\n", "The file has a header row but no data rows."),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "a binary file (a PDF?)"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a binary file (a PNG image?)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "old Excel (.xls)"),
    (b"name,age\nA\x00\x07\x13,\x00\x01\x02\x03\x04\x05\x06\xff\xfe\x00\x00", "binary file"),
    (b'id,note\n1,"never closed\n' + b"x" * 200_000, "quote"),
])
def test_refused_files_say_why(content: bytes, message: str) -> None:
    with pytest.raises(UnreadableFile, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("?", r"\?").replace(".", r"\.")):
        table = open_table(content, name="upload")
        rows_of(content, table)


def test_a_zip_that_is_not_a_workbook_and_an_empty_workbook_are_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("kunden.csv", "a,b\n1,2\n")
    with pytest.raises(UnreadableFile, match="This is a ZIP archive, not CSV or Excel"):
        open_table(buffer.getvalue(), name="kunden.zip")
    with pytest.raises(UnreadableFile, match="first sheet of this workbook is empty"):
        open_table(_workbook([]), name="leer.xlsx")
    with pytest.raises(UnreadableFile, match="header row but no data"):
        open_table(_workbook([["E-Mail", "Name"]]), name="kopf.xlsx")


def test_a_file_over_the_limit_is_refused_before_it_is_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as handle:  # sparse: 300 MB on the file system, no disk used
        handle.truncate(300 * 1024 * 1024)
    with pytest.raises(UnreadableFile, match="The file is 300 MB; at most 250 MB"):
        open_table(path, name="big.csv")
    monkeypatch.setattr(reading, "MAX_BYTES", 10)
    with pytest.raises(UnreadableFile, match="at most 0 MB"):
        open_table(b"a,b\n1,2\n3,4\n", name="f.csv")
