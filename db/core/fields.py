"""The two errors a refused value raises, shared by every feature's validators.

:class:`InvalidValue` is one value a person typed that cannot be stored; :class:`InvalidFields`
collects a message per field, so a form can show each beside its field and save nothing until
all pass. They live here, below every feature, so that a package as low as ``db.admin`` (the
settings) refuses values the same way the customer forms do (``db.customers.validation``
re-exports both).
"""

from __future__ import annotations


class InvalidValue(ValueError):
    """A value a person typed that cannot be stored; the message says why."""


class InvalidFields(ValueError):
    """Several fields failed; ``errors`` maps each field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors
