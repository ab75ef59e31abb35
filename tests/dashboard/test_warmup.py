"""Warming the pages' imports: which names are read from the page scripts, and that the
modules among them are imported and the names defined in modules skipped (the app starting
it is tested with the sign-in page, tests/pages/test_sign_in.py)."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from dashboard import warmup


def test_the_home_page_and_streamlits_lazy_imports_come_first() -> None:
    names = warmup.page_modules()
    home = names.index("db.customers.overview")
    assert home < names.index("pyarrow") < names.index("db.predict.service")
    # Imported inside functions, by the KPI page and through a package's name.
    assert {"dashboard.kpi_drawings", "db.segments.preview", "pandas"} <= set(names)
    assert "__future__" not in names and len(names) == len(set(names))


def test_imports_the_modules_and_skips_names_defined_in_them(tmp_path: Path) -> None:
    """In a fresh interpreter: nothing here is imported at its start."""
    (tmp_path / "home.py").write_text("from email import message\nimport colorsys\n")
    (tmp_path / "other.py").write_text(textwrap.dedent("""\
        from __future__ import annotations
        from json.decoder import JSONDecodeError
        def later():
            from xml.dom import minidom
        """))
    check = textwrap.dedent(f"""\
        import sys
        from pathlib import Path
        from dashboard import warmup
        warmup.STREAMLIT_LAZY = ()
        print(warmup.page_modules(Path({str(tmp_path)!r})))
        warmup.import_all(warmup.page_modules(Path({str(tmp_path)!r})))
        print([name in sys.modules for name in
               ("email.message", "colorsys", "json.decoder", "xml.dom.minidom")])
        """)
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).resolve().parents[2])
    listed, imported = done.stdout.splitlines()
    assert listed == str(["email", "email.message", "colorsys", "json.decoder",
                          "json.decoder.JSONDecodeError", "xml.dom", "xml.dom.minidom"])
    assert imported == "[True, True, True, True]"
    assert "Traceback" not in done.stderr  # the class name was skipped, not failed


def test_a_missing_module_is_logged_and_the_rest_still_imported(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "home.py").write_text("import no_such_module_here\nimport colorsys\n")
    warmup.import_all(warmup.page_modules(tmp_path))
    assert "importing no_such_module_here failed" in caplog.text
    assert "colorsys" in sys.modules


def test_the_page_scripts_are_parsed_before_the_thread_starts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Python 3.11's ast module keeps one recursion count for every thread: parsing in the
    warm-up thread while Streamlit parses a page script (its "magic") raised SystemError
    ("AST constructor recursion depth mismatch") in one or the other, and a page that
    raises there shows no content (an end-to-end test once waited 20 s for Lookup's box)."""
    parsed_in: set[str] = set()
    parse = ast.parse

    def recording(*arguments: object, **options: object) -> ast.AST:
        parsed_in.add(threading.current_thread().name)
        return parse(*arguments, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(ast, "parse", recording)
    monkeypatch.setattr(warmup, "_started", False)
    monkeypatch.setattr(warmup, "_import", lambda name: None)
    before = set(threading.enumerate())
    assert warmup.start()
    for thread in set(threading.enumerate()) - before:
        thread.join(timeout=30)
    assert parsed_in == {threading.current_thread().name}
