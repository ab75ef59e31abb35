"""The one spreadsheet-safe CSV writer (db/exports.py) on its own: formulas neutralised,
and numbers written as they are."""

from __future__ import annotations

import pandas as pd

from db.exports import spreadsheet_csv


def test_ids_with_gaps_stay_whole_numbers_and_text_is_neutralised() -> None:
    # A staff id missing on some rows (consent recorded by an import) used to come out as
    # "1.0": mapping the whole frame let pandas turn the column into floats.
    frame = pd.DataFrame([[1, "=HYPERLINK(1)", 2.5], [None, "-12.07", None]],
                         columns=["recorded_by_user_id", "note", "score"], dtype=object)
    assert spreadsheet_csv(frame).decode("utf-8-sig").splitlines() == [
        "recorded_by_user_id,note,score", "1,'=HYPERLINK(1),2.5", ",'-12.07,"]
