"""Staff accounts: sign-in with lockout, and user management for admins.

Command line: ``python -m db.users add USERNAME --role ROLE`` creates a user, prompting for
the password without echoing it; ``python -m db.users list`` shows the accounts.
"""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from db.audit import trail
from db.core.access import ROLES, Actor, Capability, operator, require
from db.core.engine import read_session, write_session
from db.core.text import control_problem
from db.core.types import utcnow
from db.customers.validation import InvalidValue, normalise_email
from db.models import User
from db.users.passwords import DUMMY_HASH, hash_password, password_problems, verify_password

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,49}$")


@dataclass(frozen=True)
class UserView:
    """What the app may know about an account: everything but the password hash."""

    id: int
    username: str
    display_name: str
    email: str | None
    role: str
    active: bool
    failed_logins: int
    locked_until: datetime | None
    last_login_at: datetime | None

    @classmethod
    def of(cls, user: User) -> UserView:
        assert user.id is not None
        return cls(user.id, user.username, user.display_name, user.email, user.role,
                   user.active, user.failed_logins, user.locked_until, user.last_login_at)

    @property
    def actor(self) -> Actor:
        return Actor(self.username, self.role)


class UserError(ValueError):
    """A user-management request that cannot be carried out; the message says why."""


class AccountLocked(Exception):
    """Too many failed sign-ins: the account refuses sign-in until ``until``."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"Too many failed sign-ins. Try again after {until:%H:%M} UTC.")
        self.until = until


def _by_username(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def authenticate(username: str, password: str, *, engine: Engine | None = None,
                 now: datetime | None = None) -> UserView | None:
    """Check a sign-in; return the user, or None for a wrong name or password.

    Failed attempts are counted in the database (so they survive reruns, restarts and other
    app replicas); the fifth in a row locks the account for 15 minutes, during which even
    the right password raises :class:`AccountLocked`. Every attempt is audited.
    """
    now = now or utcnow()
    username = username.strip().lower()[:50]
    if control_problem(username):  # no account has one; a NUL would fail the query itself
        username = "?"
    with write_session(engine) as session:
        user = _by_username(session, username)
        if user is None or not user.active:
            verify_password(password, DUMMY_HASH)  # same work as for a real account
            trail.record(session, actor=username or "?", action="login.failure", entity="user",
                         changes={"reason": "unknown or inactive user"}, source="login")
            return None
        if user.locked_until is not None and user.locked_until > now:
            verify_password(password, DUMMY_HASH)
            trail.record(session, actor=username, action="login.failure", entity="user",
                         entity_id=user.id, changes={"reason": "locked"}, source="login")
            locked_until = user.locked_until
        elif not verify_password(password, user.password_hash):
            user.failed_logins += 1
            changes: dict[str, object] = {"reason": "wrong password",
                                          "failed_logins": user.failed_logins}
            if user.failed_logins >= MAX_FAILED_LOGINS:
                user.locked_until = now + LOCKOUT
                user.failed_logins = 0
                changes["locked_until"] = user.locked_until
            session.add(user)
            trail.record(session, actor=username, action="login.failure", entity="user",
                         entity_id=user.id, changes=changes, source="login")
            return None
        else:
            user.failed_logins = 0
            user.locked_until = None
            user.last_login_at = now
            session.add(user)
            trail.record(session, actor=username, action="login.success", entity="user",
                         entity_id=user.id, source="login")
            return UserView.of(user)
    # Raised after the commit, so the audit event of the refused attempt is kept.
    raise AccountLocked(locked_until)


def record_logout(username: str, *, engine: Engine | None = None) -> None:
    """Audit a sign-out and revoke the user's sign-in cookies, here and in other browsers.

    The browser is asked to delete its cookie, but a copy of it would stay valid until it
    expires; revoking on the server closes that gap.
    """
    with write_session(engine) as session:
        user = _by_username(session, username)
        if user is not None:
            user.sessions_revoked_at = utcnow()
            session.add(user)
        trail.record(session, actor=username, action="logout", entity="user",
                     entity_id=None if user is None else user.id, source="login")


def cookie_session_is_current(username: str, issued_at: datetime, *,
                              engine: Engine | None = None) -> bool:
    """Whether a sign-in cookie issued at ``issued_at`` may still sign ``username`` in."""
    with read_session(engine) as session:
        user = _by_username(session, username)
        if user is None or not user.active:
            return False
        return user.sessions_revoked_at is None or issued_at > user.sessions_revoked_at


def active_user(username: str, *, engine: Engine | None = None) -> UserView | None:
    """The account behind a signed-in session, re-read so a role change applies at once."""
    with read_session(engine) as session:
        user = _by_username(session, username)
        return UserView.of(user) if user is not None and user.active else None


def authenticator_credentials(*, engine: Engine | None = None) -> dict:
    """Active accounts in the shape the sign-in form's authenticator expects.

    Holds no password hashes: the password check is ours (:func:`authenticate`).
    """
    with read_session(engine) as session:
        users = session.exec(select(User).where(User.active)).all()
    return {"usernames": {
        user.username: {"name": user.display_name, "email": user.email or "",
                        "roles": [user.role], "password": "", "failed_login_attempts": 0}
        for user in users}}


def list_users(actor: Actor, *, engine: Engine | None = None) -> list[UserView]:
    require(actor, Capability.ADMINISTER)
    with read_session(engine) as session:
        return [UserView.of(u) for u in session.exec(select(User).order_by(User.username))]


def _check_password(password: str) -> None:
    problems = password_problems(password)
    if problems:
        raise UserError("The password needs " + ", ".join(problems) + ".")


def check_username(username: str) -> str:
    """The username as stored (lower case), or :class:`UserError` saying what is wrong."""
    username = username.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise UserError("A username has 3 to 50 characters: lower-case letters, digits, "
                        "dot, dash or underscore, starting with a letter or digit.")
    return username


def _check_email(email: str | None) -> str | None:
    if email is None or not email.strip():
        return None
    try:
        return normalise_email(email)
    except InvalidValue as error:
        raise UserError(str(error)) from None


def create_user(actor: Actor, *, username: str, display_name: str, role: str, password: str,
                email: str | None = None, source: str = "form",
                engine: Engine | None = None) -> UserView:
    """Create an account (admins only); the username is stored in lower case."""
    require(actor, Capability.ADMINISTER)
    username = check_username(username)
    display_name = display_name.strip()
    if problem := control_problem(display_name):
        raise UserError(f"The display name: {problem}")
    email = _check_email(email)
    if not display_name or len(display_name) > 100:
        raise UserError("The display name is required (at most 100 characters).")
    if role not in ROLES:
        raise UserError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    _check_password(password)
    with write_session(engine) as session:
        if _by_username(session, username) is not None:
            raise UserError(f"The username {username!r} is taken.")
        user = User(username=username, display_name=display_name, email=email,
                    role=role, password_hash=hash_password(password))
        session.add(user)
        session.flush()
        trail.record(session, actor=actor.username, action="user.create", entity="user",
                     entity_id=user.id, changes={"username": username, "role": role},
                     source=source)
        return UserView.of(user)


def update_user(actor: Actor, user_id: int, *, role: str | None = None,
                active: bool | None = None, unlock: bool = False,
                new_password: str | None = None, engine: Engine | None = None) -> UserView:
    """Change an account's role, active flag, lock or password (admins only).

    Writes one audit event listing the fields that changed, and none when nothing did.
    Admins cannot demote or deactivate themselves, so an installation keeps an admin.
    A new password or a deactivation also ends the user's signed-in sessions.
    """
    require(actor, Capability.ADMINISTER)
    if role is not None and role not in ROLES:
        raise UserError(f"Unknown role {role!r}.")
    if new_password is not None:
        _check_password(new_password)
    with write_session(engine) as session:
        user = session.get(User, user_id)
        if user is None:
            raise UserError("No such user.")
        if user.username == actor.username and (role not in (None, user.role) or active is False):
            raise UserError("You cannot change your own role or deactivate yourself.")
        changes: dict[str, list[object]] = {}
        if role is not None and role != user.role:
            changes["role"] = [user.role, role]
            user.role = role
        if active is not None and active != user.active:
            changes["active"] = [user.active, active]
            user.active = active
        if unlock and (user.locked_until is not None or user.failed_logins):
            changes["locked_until"] = [user.locked_until, None]
            user.locked_until = None
            user.failed_logins = 0
        if new_password is not None:
            changes["password"] = ["(set)", "(changed)"]
            user.password_hash = hash_password(new_password)
        if "password" in changes or "active" in changes:
            user.sessions_revoked_at = utcnow()
        if changes:
            session.add(user)
            trail.record(session, actor=actor.username, action="user.update", entity="user",
                         entity_id=user.id, changes=changes, source="form")
        return UserView.of(user)


def _prompt_password() -> str:
    """Ask twice on a terminal; read one line when the password is piped in."""
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise UserError("No password was given on standard input.")
        return password
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise UserError("The passwords do not match.")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Manage custdb staff accounts.")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="create a user (the password is prompted)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--name", help="display name (default: the username)")
    add.add_argument("--email")
    sub.add_parser("list", help="list the users")
    args = parser.parse_args(argv)
    try:
        if args.command == "add":
            check_username(args.username)  # before asking for a password
            view = create_user(operator(), username=args.username,
                               display_name=args.name or args.username, role=args.role,
                               password=_prompt_password(), email=args.email, source="cli")
            print(f"Created {view.username} ({view.role}).")
        else:
            for user in list_users(operator()):
                state = "active" if user.active else "inactive"
                print(f"{user.username:20} {user.role:10} {state:8} {user.display_name}")
    except UserError as error:
        print(f"users: {error}", file=sys.stderr)
        return 2
    return 0
