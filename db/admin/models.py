"""The settings table: one row per setting an admin changed; a setting without a row has its
default (``db.admin.settings.DEFAULTS``), so a new setting needs no migration of data."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from db.models import timestamp_field


class AppSetting(SQLModel, table=True):
    """One setting's value as JSON text (a number or a string, the same bytes on both
    engines), with who stored it and when."""

    __tablename__ = "app_setting"

    name: str = Field(primary_key=True, max_length=50)
    value: str
    updated_at: datetime = timestamp_field()
    updated_by: str = Field(max_length=50)
