"""First-run setup used by ``make run``: migrate, then fill an empty database with demo data.

Idempotent: on a database that already has users and customers it only migrates. The demo
accounts exist so that a new team can look around at once; their passwords are printed here
and in the README, so change or deactivate them before real customer data goes in.

A database made by the migrations from before the squash into one baseline is left as it is:
``main`` prints what to do and exits with status 1, so ``make run`` stops before the app
starts. It is not recreated, because nothing tells a demo database reliably apart from one
that holds real data (demo logins can be kept and customers entered next to demo ones).
"""

from __future__ import annotations

import os
import sys

from sqlmodel import func, select

from db.core.access import Actor
from db.core.engine import database_url, get_engine, read_session
from db.demo.loader import load_demo_data
from db.migrate import UnknownRevisionError, upgrade
from db.models import Customer, User
from db.users.service import create_user

DEMO_USERS = (
    # username, display name, role, password
    ("admin", "Alex Admin", "admin", "admin-demo-2026"),
    ("manager", "Morgan Manager", "manager", "manager-demo-2026"),
    ("marketing", "Maya Marketing", "marketing", "marketing-demo-2026"),
)
DEMO_CUSTOMERS = 5_000


def setup(*, demo_customers: int = DEMO_CUSTOMERS, seed: int = 7) -> list[str]:
    """Migrate and, on an empty database, add the demo users and customers; report lines."""
    upgrade()
    engine = get_engine()
    report = []
    with read_session(engine) as session:
        users = session.exec(select(func.count()).select_from(User)).one()
        customers = session.exec(select(func.count()).select_from(Customer)).one()
    if users == 0:
        setup_actor = Actor("setup", "admin")
        for username, name, role, password in DEMO_USERS:
            create_user(setup_actor, username=username, display_name=name, role=role,
                        password=password, source="system", engine=engine)
        report.append("Created the demo users. Sign in with: " + ", ".join(
            f"{username} / {password}" for username, _, _, password in DEMO_USERS))
    if customers == 0 and demo_customers > 0:
        counts = load_demo_data(engine, customers=demo_customers, seed=seed)
        report.append(f"Loaded demo data: {counts.customers:,} customers, "
                      f"{counts.orders:,} orders ({counts.seconds:.1f} s).")
    return report


def main() -> int:
    demo_customers = int(os.environ.get("CUSTDB_DEMO_CUSTOMERS", DEMO_CUSTOMERS))
    try:
        report = setup(demo_customers=demo_customers)
    except UnknownRevisionError as error:
        print(error, file=sys.stderr)
        return 1
    for line in report:
        print(line)
    print(f"Database: {database_url()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
