"""Staff accounts: sign-in with growing delays after failures, and user management for admins.

Command line: ``python -m db.users add USERNAME --role ROLE`` creates a user, prompting for
the password without echoing it; ``python -m db.users list`` shows the accounts.
"""

from __future__ import annotations

import argparse
import getpass
import json
import math
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from db.admin import settings
from db.audit import trail
from db.core.access import ROLES, Actor, Capability, operator, require
from db.core.engine import read_session, write_session
from db.core.text import control_problem
from db.core.types import utcnow
from db.customers.validation import InvalidValue, normalise_email
from db.models import AuditEvent, User
from db.users.passwords import (
    DUMMY_HASH,
    could_have_been_set,
    hash_password,
    password_problems,
    verify_password,
)

# The defaults of the sign-in policy; an admin changes them on the Settings page.
FAILURES_BEFORE_DELAY = settings.DEFAULTS.sign_in_delay_after
MAX_DELAY = timedelta(minutes=settings.DEFAULTS.longest_sign_in_delay_minutes)
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


def retry_delay(failures: int, *, after: int = FAILURES_BEFORE_DELAY,
                longest: timedelta = MAX_DELAY) -> timedelta:
    """How long after the last of ``failures`` failed sign-ins in a row the next is heard.

    Nothing before the ``after``-th failure; then 1 s, doubling with each further failure
    up to ``longest``. With the defaults (the settings ``sign_in_delay_after`` and
    ``longest_sign_in_delay_minutes``): 1 s after the third, 2 s, 4 s, ... 512 s after the
    twelfth, 15 minutes from the thirteenth on. A typo costs nothing, and an attacker can
    keep an account (the admin's too) from signing in for at most ``longest`` after their
    latest failed guess.
    """
    if failures < after:
        return timedelta(0)
    exponent = failures - after
    return longest if exponent >= 40 else min(timedelta(seconds=2 ** exponent), longest)


def _policy(engine: Engine | None) -> tuple[int, timedelta]:
    """The sign-in delay settings now: failures before delays start, the longest delay."""
    now = settings.current(engine=engine)
    return now.sign_in_delay_after, timedelta(minutes=now.longest_sign_in_delay_minutes)


def _saturated(after: int, longest: timedelta) -> int:
    """Past this many failures the delay stays at the cap, so no more need counting."""
    return next(n for n in range(after, after + 64)
                if retry_delay(n, after=after, longest=longest) == longest)


def _in_words(wait: timedelta) -> str:
    seconds = max(1, math.ceil(wait.total_seconds()))
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


class SignInDelayed(Exception):
    """Too many failed sign-ins for this username: no attempt is heard before ``until``.

    Raised alike for usernames with and without an account (the message names neither).
    """

    def __init__(self, until: datetime, now: datetime) -> None:
        super().__init__(f"Too many failed sign-ins. Try again in {_in_words(until - now)}.")
        self.until = until


AccountLocked = SignInDelayed  # the name the sign-in form (dashboard/auth.py) catches


def _by_username(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


@dataclass(frozen=True)
class _Streak:
    """A username's failed sign-ins in a row, and when the next attempt may be heard."""

    user: User | None  # its account, if it has one
    failures: int
    retry_at: datetime | None

    def too_early(self, now: datetime) -> bool:
        return self.retry_at is not None and now < self.retry_at


def _streak(session: Session, username: str, *, saturated: int,
            for_update: bool = False) -> _Streak:
    """The streak of ``username``: on its account row, else in its audited failures.

    A name without an account keeps its failures only in the audit trail (one indexed read
    of at most its last ``saturated`` failures, past which the delay no longer grows), so it
    is delayed exactly as an account would be and the answers do not tell which names exist.
    """
    statement = select(User).where(User.username == username)
    user = session.exec(statement.with_for_update() if for_update else statement).first()
    if user is not None:
        return _Streak(user, user.failed_logins, user.locked_until)
    failures = session.exec(
        select(AuditEvent.changes).where(AuditEvent.actor == username,
                                         AuditEvent.action == "login.failure")
        .order_by(col(AuditEvent.id).desc()).limit(saturated)).all()
    retry_at = json.loads(failures[0]).get("retry_at") if failures else None
    return _Streak(None, len(failures),
                   None if retry_at is None else datetime.fromisoformat(retry_at))


def _record_refusal(session: Session, username: str, streak: _Streak) -> None:
    """Audit an attempt made before the delay ended (it does not count as a failure)."""
    trail.record(session, actor=username, action="login.refused", entity="user",
                 entity_id=None if streak.user is None else streak.user.id,
                 changes={"reason": "too early", "retry_at": streak.retry_at}, source="login")


def authenticate(username: str, password: str, *, engine: Engine | None = None,
                 now: datetime | None = None) -> UserView | None:
    """Check a sign-in; return the user, or None for a wrong name or password.

    Failed sign-ins in a row are counted per username in the database (so they survive
    reruns, restarts and other app replicas; on the account's row, or in the audit trail
    for a name without an account). From the third on, the next attempt is refused with
    :class:`SignInDelayed` until :func:`retry_delay` has passed since the last failure (as the
    sign-in delay settings say when the failure is recorded),
    even with the right password; a refused attempt costs no bcrypt and does not count. A
    success resets the count. Unknown, inactive and existing names get the same answers.

    bcrypt runs outside any transaction: the account is read in a read session, the
    password checked with no connection held, and the outcome recorded in one short write
    transaction that re-reads the streak under the write lock. A password longer than bcrypt
    reads (72 bytes) could never have been set and fails without bcrypt. Every attempt is
    audited.
    """
    now = now or utcnow()
    username = username.strip().lower()[:50]
    if not username or control_problem(username):  # no account has one, and a NUL would
        username = "?"  # fail the query itself
    after, longest = _policy(engine)
    saturated = _saturated(after, longest)
    with read_session(engine) as session:
        streak = _streak(session, username, saturated=saturated)
    if streak.too_early(now):
        with write_session(engine) as session:
            _record_refusal(session, username, streak)
        raise SignInDelayed(streak.retry_at or now, now)
    account = streak.user if streak.user is not None and streak.user.active else None
    fits = could_have_been_set(password)
    matched = fits and verify_password(
        password, DUMMY_HASH if account is None else account.password_hash)
    with write_session(engine) as session:
        fresh = _streak(session, username, saturated=saturated, for_update=True)
        user = fresh.user
        if fresh.too_early(now):  # another attempt failed while this one ran bcrypt
            _record_refusal(session, username, fresh)
        elif (matched and account is not None and user is not None and user.active
              and user.password_hash == account.password_hash):
            user.failed_logins = 0
            user.locked_until = None
            user.last_login_at = now
            session.add(user)
            trail.record(session, actor=username, action="login.success", entity="user",
                         entity_id=user.id, source="login")
            return UserView.of(user)
        else:
            failures = fresh.failures + 1
            retry_at = (now + retry_delay(failures, after=after, longest=longest)
                        if failures >= after else None)
            if user is None or not user.active:
                reason = "unknown or inactive user"
            else:
                reason = "wrong password" if fits else "password longer than 72 bytes"
            if user is not None:
                user.failed_logins = failures
                user.locked_until = retry_at
                session.add(user)
            trail.record(session, actor=username, action="login.failure",
                         entity="user", entity_id=None if user is None else user.id,
                         changes={"reason": reason, "failures": failures,
                                  "retry_at": retry_at}, source="login")
            return None
    # Raised after the commit, so the audit event of the refused attempt is kept.
    raise SignInDelayed(fresh.retry_at or now, now)


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


def session_user(username: str, signed_in_at: datetime, *,
                 engine: Engine | None = None) -> UserView | None:
    """The account behind a session that signed in at ``signed_in_at``, or None once it ended.

    A session ends when the account is deactivated or its sessions are revoked after
    ``signed_in_at`` (sign-out anywhere, password change, deactivation). One read by the
    unique username index, so the app asks on every rerun; a role change applies at once.
    """
    with read_session(engine) as session:
        user = _by_username(session, username)
        if user is None or not user.active:
            return None
        if user.sessions_revoked_at is not None and signed_in_at <= user.sessions_revoked_at:
            return None
        return UserView.of(user)


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
    Admins cannot demote or deactivate themselves, nor the last active admin (whoever asks:
    another admin, the command line), so an installation always keeps an admin.
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
        removes_admin = role not in (None, "admin") or active is False
        if user.username == actor.username and (role not in (None, user.role) or active is False):
            raise UserError("You cannot change your own role or deactivate yourself.")
        if removes_admin and user.role == "admin" and user.active:
            _keep_an_admin(session, user)
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


def _keep_an_admin(session: Session, leaving: User) -> None:
    """Refuse to demote or deactivate ``leaving`` when no other active admin would remain.

    The active admins' rows are locked (in id order) first, so two admins demoting each
    other at once queue on PostgreSQL and the second sees the first's change (SQLite writes
    one at a time anyway).
    """
    admins = session.exec(select(User.id).where(User.role == "admin", col(User.active))
                          .order_by(col(User.id)).with_for_update()).all()
    if not [admin for admin in admins if admin != leaving.id]:
        raise UserError(f"{leaving.username} is the last active admin: make another account "
                        "an admin first, so someone can still manage users and settings.")


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
