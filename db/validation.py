"""One set of validators for every write path: forms, grid edits, imports, the CLI.

Each validator returns the normalised value or raises :class:`InvalidValue` with a message
written for the person who typed the value.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


class InvalidValue(ValueError):
    """A value a person typed that cannot be stored; the message says why."""


def normalise_email(value: str) -> str:
    """``" Jane.Doe@Example.COM "`` → ``"jane.doe@example.com"``; syntax checked, no DNS.

    Lower-cased whole, so that uniqueness holds however a person types their address
    (mailbox names are case-insensitive at every provider that matters).
    """
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidValue(f"{value.strip()!r} is not a valid email address: {error}") from None
    return checked.normalized.lower()
