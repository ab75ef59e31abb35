"""The shape of ``db/`` the next engineer relies on: one package per feature, a few entry
modules at the top, no module too long to read, and no Streamlit below the pages."""

from __future__ import annotations

import re
from pathlib import Path

DB = Path(__file__).resolve().parents[2] / "db"
TOP_MODULES = {"__init__.py", "models.py", "exports.py", "migrate.py", "setup.py"}
LONGEST = 450
# Each package (or top module) of db/ may import only those of earlier layers: the
# architecture the README draws, and what keeps a change in one feature from rippling down.
LAYERS = [{"core"}, {"models"}, {"derived"}, {"exports"}, {"audit"}, {"admin"},
          {"predict"}, {"customers", "segments"},
          {"kpi", "search", "users", "imports"}, {"quality"}, {"backup", "privacy"},
          {"migrate"}, {"demo"}, {"setup"}]


def _modules() -> list[Path]:
    return [path for path in DB.rglob("*.py") if "__pycache__" not in path.parts]


def test_db_top_holds_only_its_entry_modules_and_feature_packages() -> None:
    assert {path.name for path in DB.glob("*.py")} == TOP_MODULES
    for folder in (path for path in DB.iterdir() if path.is_dir()
                   and path.name not in {"__pycache__", "migrations"}):
        assert (folder / "__init__.py").exists(), f"{folder.name}/ is not a package"
        assert (folder / "__init__.py").read_text().lstrip().startswith('"""'), (
            f"{folder.name}/__init__.py says what the package holds")


def test_no_module_under_db_is_longer_than_the_limit() -> None:
    lengths = {str(path.relative_to(DB)): len(path.read_text().splitlines())
               for path in _modules()}
    assert {name: lines for name, lines in lengths.items() if lines > LONGEST} == {}


def test_db_never_imports_streamlit() -> None:
    assert [str(path.relative_to(DB)) for path in _modules()
            if "streamlit" in path.read_text()] == []


def test_each_package_imports_only_earlier_layers() -> None:
    layer_of = {name: index for index, layer in enumerate(LAYERS) for name in layer}
    upward = []
    for path in _modules():
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(DB).parts
        package = parts[0].removesuffix(".py")
        for imported in re.findall(r"^\s*(?:from|import) db\.(\w+)", path.read_text(), re.M):
            if imported != package and layer_of[imported] >= layer_of[package]:
                upward.append(f"{'/'.join(parts)} imports db.{imported}")
    assert upward == []
