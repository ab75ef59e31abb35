"""The served app's Streamlit settings that protect visitors or keep every session fast."""

from __future__ import annotations

import tomllib
from pathlib import Path

from streamlit import config
from streamlit.config import ShowErrorDetailsConfigOptions

CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"


def test_visitors_never_see_exception_details() -> None:
    shown = tomllib.loads(CONFIG.read_text())["client"]["showErrorDetails"]
    assert shown == ShowErrorDetailsConfigOptions.NONE.value


def test_the_served_app_watches_no_source_files() -> None:
    """A watcher costs every session of a busy server (see the setting's comment); a developer
    turns it on for their own run."""
    watcher = tomllib.loads(CONFIG.read_text())["server"]["fileWatcherType"]
    config.get_option("server.fileWatcherType")  # raises for a name Streamlit does not read
    assert watcher == "none"
