"""Reading one customer row: the words people put in a spreadsheet's choice columns."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from db.imports.rows import Options, customer_row

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(("written", "gender"), [
    ("Herr", "male"), ("Hr.", "male"), ("Mr", "male"), ("Mr.", "male"), ("Frau", "female"),
    ("Fr.", "female"), ("Mrs", "female"), ("Ms.", "female"), ("W", "female"), ("divers", "diverse"),
])
def test_a_salutation_column_reads_as_gender(written: str, gender: str) -> None:
    # "Anrede" (salutation) is suggested for gender; a German CRM export writes Herr/Frau.
    row = customer_row({"first_name": "Jürgen", "last_name": "Wälti", "country": "DE",
                        "gender": written}, 2, Options(), NOW)
    assert row.fields["gender"] == gender
