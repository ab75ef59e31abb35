"""The tables of duplicate detection: the last run, its stored pairs, reviewers' verdicts.

A pair is always stored with ``left_id < right_id``. Candidate rows go with their customers
(``ON DELETE CASCADE``); a verdict goes too, since a deleted id is never reused.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, LargeBinary, Text
from sqlmodel import Field, SQLModel

from db.models import timestamp_field


class DuplicateRun(SQLModel, table=True):
    """One detection over the live customers; only the newest is kept."""

    __tablename__ = "duplicate_run"

    id: int | None = Field(default=None, primary_key=True)
    found_at: datetime = timestamp_field()
    found_by: str = Field(max_length=50)
    seconds: float
    customers: int  # live customers compared
    compared: int  # candidate pairs the blocking produced and the scorer scored
    stored: int  # pairs at or above the review floor, kept in duplicate_candidate
    proposed: int  # of those, pairs at or above the default threshold
    skipped_blocks: int  # blocks too large to compare pair by pair (see matching.MAX_BLOCK)


class DuplicateCandidate(SQLModel, table=True):
    """A pair of the newest run at or above the review floor, with its score and reasons."""

    __tablename__ = "duplicate_candidate"
    __table_args__ = (
        CheckConstraint("left_id < right_id", name="ordered"),
        Index("ix_duplicate_candidate_score", "score"),
        Index("ix_duplicate_candidate_right_id", "right_id"),
    )

    left_id: int = Field(foreign_key="customer.id", primary_key=True, ondelete="CASCADE")
    right_id: int = Field(foreign_key="customer.id", primary_key=True, ondelete="CASCADE")
    score: float
    reasons: str = Field(max_length=1000)  # one reason a line


class DuplicateDecision(SQLModel, table=True):
    """A reviewer's verdict on a pair: the same person (to merge) or not the same."""

    __tablename__ = "duplicate_decision"
    __table_args__ = (
        CheckConstraint("left_id < right_id", name="ordered"),
        Index("ix_duplicate_decision_right_id", "right_id"),
    )

    left_id: int = Field(foreign_key="customer.id", primary_key=True, ondelete="CASCADE")
    right_id: int = Field(foreign_key="customer.id", primary_key=True, ondelete="CASCADE")
    same: bool
    decided_at: datetime = timestamp_field()
    decided_by: str = Field(max_length=50)


class QualityCheck(SQLModel, table=True):
    """The newest check of every live record (:mod:`db.quality.snapshot`): the report's
    figures, the first customers of each of its lists and the verdict on every stored
    phone, so a restart or another server process shows the report at once and judges only
    the phones changed since. One row; each check replaces it. Ids and checksums only, no
    personal values."""

    __tablename__ = "quality_check"

    id: int = Field(default=1, primary_key=True)
    version: str = Field(max_length=200)  # the data version the check saw (JSON)
    stamp: str = Field(max_length=1000)  # the customers' data stamp the check saw (JSON)
    checked_at: datetime = timestamp_field()
    figures: str = Field(sa_type=Text)  # the report as JSON
    lists: str = Field(sa_type=Text)  # JSON: "check:field" → the first ids of that list
    phone_ids: bytes = Field(sa_type=LargeBinary)  # every judged phone's customer, ascending
    phone_keys: bytes = Field(sa_type=LargeBinary)  # report.phone_key of what was judged
    phone_valid: bytes = Field(sa_type=LargeBinary)  # one byte a phone: 1 valid, 0 not
