"""The import feature's own tables: what each committed import was, and the column mappings a
team saved to reuse for its monthly files."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.imports.mapping import KINDS
from db.models import timestamp_field

_KIND_CHECK = "kind IN (" + ", ".join(f"'{kind}'" for kind in KINDS) + ")"


class ImportRun(SQLModel, table=True):
    """One committed import. It is written in the import's own transaction, so a row here
    means every accepted row of the file was written, and none means nothing was.
    ``counts`` and ``mapping`` are JSON text (the same bytes on both engines)."""

    __tablename__ = "import_run"
    __table_args__ = (CheckConstraint(_KIND_CHECK, name="kind"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    file_name: str = Field(max_length=255)
    sha256: str = Field(max_length=64, index=True)
    actor: str = Field(max_length=50)
    mode: str = Field(max_length=20)
    mapping: str = Field(default="{}")
    counts: str = Field(default="{}")
    started_at: datetime = timestamp_field()
    finished_at: datetime = timestamp_field()


class ImportMapping(SQLModel, table=True):
    """A saved column mapping (field → column header) and the file's options (date order,
    default currency, matching mode), by name per kind: "Shop export", "POS history"."""

    __tablename__ = "import_mapping"
    __table_args__ = (CheckConstraint(_KIND_CHECK, name="kind"),
                      UniqueConstraint("kind", "name", name="uq_import_mapping_kind_name"))

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    name: str = Field(max_length=100)
    columns: str = Field(default="{}")
    options: str = Field(default="{}")
    updated_by: str = Field(max_length=50)
    updated_at: datetime = timestamp_field()
