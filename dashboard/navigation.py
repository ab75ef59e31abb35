"""Which pages exist and which roles see them in the menu."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from db.core.access import Actor, Capability

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"


@dataclass(frozen=True)
class PageSpec:
    file: str
    title: str
    icon: str
    capability: Capability | None  # None: every signed-in user
    section: str
    in_menu: bool = True  # False: reached by links only (e.g. a profile needs ?customer=)


PAGES = (
    PageSpec("home.py", "Home", ":material/home:", None, "Overview"),
    PageSpec("kpis.py", "KPIs", ":material/monitoring:", Capability.VIEW_KPIS, "Overview"),
    PageSpec("predictions.py", "Predictions", ":material/online_prediction:",
             Capability.VIEW_KPIS, "Overview"),
    PageSpec("lookup.py", "Lookup", ":material/search:", Capability.LOOKUP, "Customers"),
    PageSpec("new_customer.py", "New customer", ":material/person_add:",
             Capability.EDIT_CUSTOMER, "Customers"),
    PageSpec("customer.py", "Customer", ":material/person:", Capability.LOOKUP, "Customers",
             in_menu=False),
    PageSpec("duplicates.py", "Duplicates", ":material/join_inner:", Capability.EDIT_CUSTOMER,
             "Customers"),
    PageSpec("data_quality.py", "Data quality", ":material/fact_check:",
             Capability.EDIT_CUSTOMER, "Customers"),
    PageSpec("segments.py", "Segments", ":material/filter_alt:", Capability.SEGMENTS,
             "Marketing"),
    PageSpec("audit.py", "Audit trail", ":material/history:", Capability.VIEW_AUDIT, "Admin"),
    PageSpec("users.py", "Users", ":material/manage_accounts:", Capability.ADMINISTER, "Admin"),
    PageSpec("imports.py", "Import data", ":material/upload_file:", Capability.ADMINISTER,
             "Admin"),
    PageSpec("deleted_customers.py", "Deleted customers", ":material/restore_from_trash:",
             Capability.ADMINISTER, "Admin"),
    PageSpec("privacy.py", "Privacy", ":material/shield_person:", Capability.ADMINISTER,
             "Admin"),
    PageSpec("database.py", "Database", ":material/database:", Capability.ADMINISTER, "Admin"),
    PageSpec("settings.py", "Settings", ":material/settings:", Capability.ADMINISTER, "Admin"),
)


def visible_titles(actor: Actor) -> list[str]:
    """The menu entries ``actor`` sees, in menu order."""
    return [p.title for p in PAGES
            if p.in_menu and (p.capability is None or actor.can(p.capability))]


def build_navigation(actor: Actor) -> st.Page:
    """Every page is registered, so a URL always resolves; those the role cannot use are
    hidden from the menu and refuse on their own (see :mod:`dashboard.access`)."""
    shown = set(visible_titles(actor))
    sections: dict[str, list] = {}
    for spec in PAGES:
        sections.setdefault(spec.section, []).append(st.Page(
            PAGES_DIR / spec.file, title=spec.title, icon=spec.icon,
            default=spec.file == "home.py",
            visibility="visible" if spec.title in shown else "hidden",
        ))
    # Expanded: an admin has 14 pages, and a collapsed menu hides the last ones behind
    # "View more", where nobody looks for Privacy or Settings.
    return st.navigation(sections, expanded=True)
