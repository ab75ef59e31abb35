"""A file as someone's shop, spreadsheet or till exported it, opened without guessing aloud.

:func:`open_table` looks at a file (bytes or a path) and says what it is — Excel (``.xlsx``,
its first sheet) or CSV text with its encoding, delimiter and header — or refuses it with
:class:`UnreadableFile`, whose message is written for the person who uploaded it.
:func:`chunks` then streams its data rows as DataFrames of text, a bounded number at a time,
so a file of a million rows never sits in memory whole.

What is decided, and how:

- **Encoding**: a byte-order mark wins (UTF-8, UTF-16, UTF-32). Otherwise a file that is
  valid UTF-8 throughout is UTF-8; UTF-16 without a mark is recognised by its zero bytes;
  anything else is named by charset-normalizer, except that any Latin-script single-byte
  guess (it often says cp1250 for German text) is read as Windows-1252, the code page of
  Western European spreadsheets, or Latin-1 when a byte is undefined in Windows-1252.
- **Delimiter**: the one of ``,`` ``;`` tab ``|`` that splits the first records into the
  same number (two or more) of cells most consistently; on a tie tab, then ``;`` (German
  files hold decimal commas), then ``|``, then ``,``. When none does, text whose lines split
  into the same number of cells at runs of spaces is read that way (``Table.delimiter`` is
  then :data:`WHITESPACE`; quotes mean nothing there). Otherwise the file has one column.
- **Header**: asked for, or (``has_header=None``) decided: a first row of non-numeric
  labels (no number, date or e-mail among them) of which one is a known field name, or
  which are distinct and unlike the rows below (some column below holds mostly numbers,
  dates or e-mails; a lone first row counts as a header). Blank labels become "Column N",
  repeated ones "Email (2)", and a label "line" becomes "line (2)" (``line`` is the
  line-number column of every chunk). Without a header the columns are "Column 1", ...
- **Rows**: records that hold no text at all (blank lines, ``;;;``) are skipped. A row with
  fewer cells than columns is padded with "", one with more loses the extras; when any lost
  cell held text, the row's line is listed in the chunk's ``attrs["long_rows"]``.
- **Line numbers** are those of the file: the header is line 1; a CSV record spanning lines
  (a quoted line break) has the line where it starts; an Excel row has its sheet row number.

Refused: an empty file, one over :data:`MAX_BYTES`, a binary file (zero bytes that are not
UTF-16, or the signature of a PDF, image, archive, old ``.xls`` or database), a ZIP that is
not an Excel workbook, a file with a header row and no data, and text no encoding fits.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections import Counter
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import IO, Literal

import charset_normalizer
import openpyxl
import pandas as pd

from db.imports.mapping import is_known_label

MAX_BYTES = 250 * 1024 * 1024
WHITESPACE = " "
"""``Table.delimiter`` of text whose columns are separated by runs of spaces."""

COUNT_BELOW_BYTES = 20 * 1024 * 1024
"""CSV files up to this size have their rows counted when opened (one extra read)."""

_SAMPLE_BYTES = 64 * 1024
_SAMPLE_RECORDS = 50
_BLOCK = 1024 * 1024
_DELIMITERS = ("\t", ";", "|", ",")  # in order of preference on a tie
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"),
         (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
_SIGNATURES = ((b"%PDF", "a PDF"), (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
               (b"GIF8", "a GIF image"), (b"\x1f\x8b", "a gzip archive"),
               (b"7z\xbc\xaf", "a 7-Zip archive"), (b"Rar!", "a RAR archive"),
               (b"SQLite format 3\x00", "an SQLite database"), (b"\x7fELF", "a program"),
               (b"MZ", "a Windows program"))
_NON_LATIN = ("1251", "1253", "1255", "1256", "874", "866", "855", "koi8", "cyrillic", "greek",
              "hebrew", "arabic", "8859_5", "8859_6", "8859_7", "8859_8", "8859_11", "tis",
              "1125", "kz1048", "ptcp154")
_NUMBER = re.compile(r"[-+(]?[€$£]?\s?\d[\d.,' \u00a0]*%?\)?(\s?[A-Za-z€$£]{1,3})?")
_DATE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}([ T].*)?|\d{8}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class UnreadableFile(ValueError):
    """A file that cannot be imported; the message says why, for the person who uploaded it."""


@dataclass(frozen=True)
class Table:
    """What :func:`open_table` found: enough to stream the rows again with :func:`chunks`.

    ``encoding`` and ``delimiter`` are None for Excel; ``rows`` (data rows, header excluded)
    is None where counting would mean reading the file once more (Excel; CSV over
    :data:`COUNT_BELOW_BYTES`).
    """

    name: str
    format: Literal["csv", "xlsx"]
    columns: list[str]
    has_header: bool
    encoding: str | None
    delimiter: str | None
    rows: int | None


def open_table(source: bytes | Path, *, name: str, has_header: bool | None = None) -> Table:
    """Recognise ``source`` (its name is the file name shown to the user) or raise
    :class:`UnreadableFile`. Reads a sample, plus one decoding pass over a CSV file."""
    size = len(source) if isinstance(source, bytes) else source.stat().st_size
    if size == 0:
        raise UnreadableFile("The file is empty.")
    if size > MAX_BYTES:
        raise UnreadableFile(f"The file is {size / 1024 / 1024:.0f} MB; at most "
                             f"{MAX_BYTES // 1024 // 1024} MB can be imported at once. Split "
                             "it into smaller files (each with the header row) and import "
                             "them one after the other.")
    with _binary(source) as stream:
        head = stream.read(_SAMPLE_BYTES)
    if head.startswith(b"PK\x03\x04"):
        return _open_xlsx(source, name, has_header)
    encoding = _encoding(source, head)
    sample_text = _decode_sample(head, encoding, whole=size <= _SAMPLE_BYTES)
    if not sample_text.strip():
        raise UnreadableFile("The file is empty.")
    delimiter = _sniff(sample_text)
    records = _file_records(source, encoding, delimiter)
    try:
        sample = [cells for _, cells in islice(records, _SAMPLE_RECORDS)]
    finally:
        records.close()
    columns, header = _columns(sample, has_header, name)
    rows = None
    if size <= COUNT_BELOW_BYTES:
        rows = sum(1 for _ in _file_records(source, encoding, delimiter)) - header
    return Table(name, "csv", columns, header, encoding, delimiter, rows)


def chunks(table_source: bytes | Path, table: Table, *, size: int = 50_000
           ) -> Iterator[pd.DataFrame]:
    """The data rows of ``table_source`` (the source :func:`open_table` read), in order, at
    most ``size`` a frame: one text column per ``table.columns`` (every cell a ``str``, ""
    when empty) and an int ``line``. ``frame.attrs["long_rows"]`` lists the lines of that
    chunk whose cells beyond the last column held text that was dropped."""
    width = len(table.columns)
    records_of: _Records
    if table.format == "xlsx":
        records_of = _xlsx_records(table_source)
    else:
        assert table.encoding is not None and table.delimiter is not None
        records_of = _file_records(table_source, table.encoding, table.delimiter)
    try:
        if table.has_header:
            next(records_of, None)
        while batch := list(islice(records_of, size)):
            lines: list[int] = []
            rows: list[list[str]] = []
            long_rows: list[int] = []
            for line, cells in batch:
                lines.append(line)
                if len(cells) < width:
                    cells = cells + [""] * (width - len(cells))
                elif len(cells) > width:
                    if any(cell.strip() for cell in cells[width:]):
                        long_rows.append(line)
                    cells = cells[:width]
                rows.append(cells)
            frame = pd.DataFrame(rows, columns=table.columns, dtype=object)
            frame["line"] = pd.Series(lines, dtype="int64")
            frame.attrs["long_rows"] = long_rows
            yield frame
    finally:
        records_of.close()


def _binary(source: bytes | Path) -> IO[bytes]:
    return io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")


def _seekable(source: bytes | Path) -> io.BytesIO | Path:
    """What zipfile and openpyxl open and close themselves: a path, or the bytes in memory."""
    return io.BytesIO(source) if isinstance(source, bytes) else source


def _text(source: bytes | Path, encoding: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(_binary(source), encoding=encoding, newline="")


_Records = Generator[tuple[int, list[str]], None, None]


def _file_records(source: bytes | Path, encoding: str, delimiter: str) -> _Records:
    with _text(source, encoding) as stream:
        yield from _records(stream, delimiter)


def _encoding(source: bytes | Path, head: bytes) -> str:
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return _checked(source, encoding)
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            raise UnreadableFile(f"This looks like a binary file ({what}?), not CSV or Excel.")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile("This is an old Excel (.xls) or other Office file. Open it in "
                             "Excel and save it as .xlsx or CSV, then import that.")
    if b"\x00" in head:
        even, odd = head[0::2].count(0), head[1::2].count(0)
        pairs = max(len(head) // 2, 1)
        if odd / pairs > 0.3 and even / pairs < 0.05:
            return _checked(source, "utf-16-le")
        if even / pairs > 0.3 and odd / pairs < 0.05:
            return _checked(source, "utf-16-be")
        raise UnreadableFile("This looks like a binary file, not CSV or Excel.")
    failed_at = _first_undecodable(source, "utf-8")
    if failed_at is None:
        return "utf-8"
    with _binary(source) as stream:
        stream.seek(max(failed_at - _SAMPLE_BYTES // 2, 0))
        window = stream.read(_SAMPLE_BYTES)
    guess = charset_normalizer.from_bytes(head + b"\n" + window).best()
    if guess is None:
        raise UnreadableFile("The file's characters could not be read in any known text "
                             "encoding; it may be a binary file. Save it as CSV (UTF-8).")
    if not any(mark in guess.encoding for mark in _NON_LATIN) and "utf" not in guess.encoding:
        if _first_undecodable(source, "cp1252") is None:
            return "cp1252"
        return "latin-1"
    return _checked(source, guess.encoding)


def _checked(source: bytes | Path, encoding: str) -> str:
    failed_at = _first_undecodable(source, encoding)
    if failed_at is not None:
        raise UnreadableFile(f"The file mixes text encodings: it reads as {encoding} up to "
                             f"byte {failed_at:,} but not after it. Save it again as CSV "
                             "(UTF-8) and import that.")
    return encoding


def _first_undecodable(source: bytes | Path, encoding: str) -> int | None:
    """The offset of the block where ``encoding`` first fails, or None if all of it decodes."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with _binary(source) as stream:
        while True:
            block = stream.read(_BLOCK)
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as error:
                return offset + max(error.start, 0)
            if not block:
                return None
            offset += len(block)


def _decode_sample(head: bytes, encoding: str, *, whole: bool) -> str:
    text = codecs.getincrementaldecoder(encoding)().decode(head, final=whole)
    if not whole and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # the last line may be cut short
    return text


def _sniff(sample: str) -> str:
    best: tuple[float, int, int] | None = None
    chosen = ","
    for preference, delimiter in enumerate(_DELIMITERS):
        counts = [len(cells) for _, cells in
                  islice(_records(io.StringIO(sample), delimiter), _SAMPLE_RECORDS)]
        share, mode = _consistency(counts)
        if mode >= 2 and (best is None or (share, mode, -preference) > best):
            best, chosen = (share, mode, -preference), delimiter
    if best is not None and best[0] >= 0.8:
        return chosen
    counts = [len(line.split()) for line in sample.splitlines()[:_SAMPLE_RECORDS] if line.strip()]
    share, mode = _consistency(counts)
    if mode >= 2 and share >= 0.9:
        return WHITESPACE
    return chosen


def _consistency(counts: list[int]) -> tuple[float, int]:
    """(the share of records with the commonest cell count, that count)."""
    if not counts:
        return 0.0, 0
    mode, times = Counter(counts).most_common(1)[0]
    return times / len(counts), mode


def _records(stream: IO[str], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, its cells) for every record holding some text."""
    if delimiter == WHITESPACE:
        for number, line in enumerate(stream, 1):
            cells = line.split()
            if cells:
                yield number, cells
        return
    reader = csv.reader(stream, delimiter=delimiter)
    start = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                yield start, cells
            start = reader.line_num + 1
    except csv.Error as error:
        raise UnreadableFile(f"Line {start} cannot be read ({error}); a quote (\") that "
                             "opens a value and never closes it is the usual cause.") from None


def _columns(sample: list[list[str]], has_header: bool | None, name: str
             ) -> tuple[list[str], bool]:
    if not sample:
        raise UnreadableFile("The file is empty.")
    first, rest = sample[0], sample[1:]
    header = _looks_like_header(first, rest) if has_header is None else has_header
    if header and not rest:
        raise UnreadableFile("The file has a header row but no data rows.")
    if header:
        labels = [cell.strip() for cell in first]
        while labels and not labels[-1] and all(len(row) < len(labels) or not row[
                len(labels) - 1].strip() for row in rest):
            labels.pop()  # a delimiter ending every line makes no column
        return _unique(labels), True
    width = max(len(row) for row in sample)
    return [f"Column {index}" for index in range(1, width + 1)], False


def _looks_like_header(first: list[str], rest: list[list[str]]) -> bool:
    labels = [cell.strip() for cell in first if cell.strip()]
    if not labels or any(_typed(label) for label in labels):
        return False
    if any(is_known_label(label) for label in labels):
        return True  # even with a label repeated (a second "Email" column)
    if len(set(labels)) < len(labels):
        return False
    if not rest:
        return True
    for index in range(len(first)):
        values = [row[index].strip() for row in rest if index < len(row) and row[index].strip()]
        if values and sum(map(_typed, values)) * 2 >= len(values):
            return True
    return False


def _typed(cell: str) -> bool:
    """A number, date or e-mail address: data, never a column's label."""
    return bool(_NUMBER.fullmatch(cell) or _DATE.fullmatch(cell) or _EMAIL.fullmatch(cell))


def _unique(labels: list[str]) -> list[str]:
    taken = {"line"}
    names = []
    for index, label in enumerate(labels, 1):
        label = label or f"Column {index}"
        candidate, number = label, 1
        while candidate in taken:
            number += 1
            candidate = f"{label} ({number})"
        taken.add(candidate)
        names.append(candidate)
    return names


def _open_xlsx(source: bytes | Path, name: str, has_header: bool | None) -> Table:
    try:
        with zipfile.ZipFile(_seekable(source)) as archive:
            members = set(archive.namelist())
    except zipfile.BadZipFile:
        raise UnreadableFile("This looks like a damaged ZIP or Excel file.") from None
    if "xl/workbook.xml" not in members:
        what = ("a Word document" if "word/document.xml" in members else
                "an OpenDocument file (save it as .xlsx or CSV)" if "mimetype" in members
                else "a ZIP archive")
        raise UnreadableFile(f"This is {what}, not CSV or Excel.")
    records = _xlsx_records(source)
    try:
        sample = [cells for _, cells in islice(records, _SAMPLE_RECORDS)]
    finally:
        records.close()
    if not sample:
        raise UnreadableFile("The first sheet of this workbook is empty.")
    columns, header = _columns(sample, has_header, name)
    return Table(name, "xlsx", columns, header, None, None, None)


def _xlsx_records(source: bytes | Path) -> _Records:
    try:
        workbook = openpyxl.load_workbook(_seekable(source), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken workbook
        raise UnreadableFile(f"This Excel file cannot be opened ({error}).") from None
    try:
        sheet = workbook.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(min_row=1, min_col=1,
                                                        values_only=True), 1):
            cells = [_cell_text(value) for value in values]
            while cells and not cells[-1]:
                cells.pop()
            if any(cell.strip() for cell in cells):
                yield number, cells
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    """An Excel cell as the text a person sees in it, without the float's noise."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(timespec="seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(Decimal(f"{value:.15g}"), "f")
    return str(value)
