"""The served app's Streamlit settings that protect visitors."""

from __future__ import annotations

import tomllib
from pathlib import Path

from streamlit.config import ShowErrorDetailsConfigOptions

CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"


def test_visitors_never_see_exception_details() -> None:
    shown = tomllib.loads(CONFIG.read_text())["client"]["showErrorDetails"]
    assert shown == ShowErrorDetailsConfigOptions.NONE.value
