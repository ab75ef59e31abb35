"""Who may do what: the role table of the design notes, enforced by every service call.

Pages hide what a role cannot use, but the decision is made here, so a page opened by URL,
a script or a future API gets the same answer.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from enum import StrEnum


class Capability(StrEnum):
    LOOKUP = "lookup"
    VIEW_PAYMENT_DETAILS = "view_payment_details"
    EDIT_CUSTOMER = "edit_customer"
    EDIT_MARKETING_FIELDS = "edit_marketing_fields"
    SEGMENTS = "segments"
    EXPORT_WITHOUT_CONSENT = "export_without_consent"
    VIEW_KPIS = "view_kpis"
    VIEW_AUDIT = "view_audit"
    ADMINISTER = "administer"  # users, settings, GDPR requests, erasure, soft delete


_ALL = frozenset(Capability)
PERMISSIONS: dict[str, frozenset[Capability]] = {
    "admin": _ALL,
    "manager": _ALL - {Capability.EXPORT_WITHOUT_CONSENT, Capability.ADMINISTER},
    "marketing": frozenset({Capability.LOOKUP, Capability.EDIT_MARKETING_FIELDS,
                            Capability.SEGMENTS}),
}
ROLES = tuple(PERMISSIONS)  # the roles an account may have, in this order in forms


class PermissionDenied(Exception):
    """The actor's role does not allow the requested action."""


@dataclass(frozen=True)
class Actor:
    """Who is acting: the signed-in user (or a command-line operator) and their role."""

    username: str
    role: str

    def can(self, capability: Capability) -> bool:
        return capability in PERMISSIONS.get(self.role, frozenset())


def require(actor: Actor, capability: Capability) -> None:
    """Raise :class:`PermissionDenied` unless ``actor`` has ``capability``."""
    if not actor.can(capability):
        raise PermissionDenied(
            f"The {actor.role} role cannot {capability.value.replace('_', ' ')}."
        )


def operator() -> Actor:
    """The person running a command-line tool (``python -m db.users``, ``python -m db.audit``)
    on the server. Whoever can run them already holds the database, so they act as an admin;
    their events name the operating-system account (``cli:jane``)."""
    return Actor(f"cli:{getpass.getuser()}", "admin")
