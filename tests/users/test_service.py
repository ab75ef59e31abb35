"""Accounts: sign-in with persisted failure counts, role checks, user management and its audit."""

from __future__ import annotations

import io
import json
import threading

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from db.core.access import Actor, PermissionDenied
from db.core.types import utcnow
from db.models import AuditEvent, User
from db.users.service import (
    AccountLocked,
    UserError,
    UserView,
    authenticate,
    create_user,
    list_users,
    record_logout,
    session_user,
    update_user,
)
from tests.factories import ADMIN, user

PASSWORD = "correct-horse-7"


@pytest.fixture
def alice(engine: Engine) -> int:
    return create_user(ADMIN, username="Alice", display_name="Alice A", role="manager",
                       password=PASSWORD, engine=engine).id


def _events(engine: Engine, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        statement = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        return list(session.exec(statement))


def _user(engine: Engine, user_id: int) -> User:
    with Session(engine) as session:
        user = session.get(User, user_id)
        assert user is not None
        return user


def test_password_is_stored_as_bcrypt_hash(engine: Engine, alice: int) -> None:
    stored = _user(engine, alice).password_hash
    assert stored.startswith("$2b$") and PASSWORD not in stored


def test_sign_in_succeeds_case_insensitively_and_is_audited(engine: Engine, alice: int) -> None:
    user = authenticate(" ALICE ", PASSWORD, engine=engine)
    assert user is not None and user.username == "alice" and user.role == "manager"
    assert _user(engine, alice).last_login_at is not None
    assert [e.actor for e in _events(engine, "login.success")] == ["alice"]


def test_unknown_user_and_wrong_password_fail_alike(engine: Engine, alice: int) -> None:
    assert authenticate("nobody", PASSWORD, engine=engine) is None
    assert authenticate("alice", "wrong-password-1", engine=engine) is None
    reasons = [json.loads(e.changes)["reason"] for e in _events(engine, "login.failure")]
    assert reasons == ["unknown or inactive user", "wrong password"]


def test_a_success_resets_the_failure_count(engine: Engine, alice: int) -> None:
    for attempt in range(2):
        authenticate("alice", f"wrong-{attempt}-xx", engine=engine)
    assert _user(engine, alice).failed_logins == 2
    authenticate("alice", PASSWORD, engine=engine)
    assert _user(engine, alice).failed_logins == 0


def test_an_admin_unlock_clears_the_delay(engine: Engine, alice: int) -> None:
    now = utcnow()
    for attempt in range(3):
        authenticate("alice", f"wrong-{attempt}-xx", engine=engine, now=now)
    with pytest.raises(AccountLocked):  # the name the sign-in form catches
        authenticate("alice", PASSWORD, engine=engine, now=now)
    update_user(ADMIN, alice, unlock=True, engine=engine)
    assert authenticate("alice", PASSWORD, engine=engine, now=now) is not None


def test_inactive_users_cannot_sign_in(engine: Engine, alice: int) -> None:
    update_user(ADMIN, alice, active=False, engine=engine)
    assert authenticate("alice", PASSWORD, engine=engine) is None


@pytest.mark.parametrize(("fields", "message"), [
    ({"username": "a"}, "3 to 50 characters"),
    ({"username": "bad name"}, "3 to 50 characters"),
    ({"role": "owner"}, "Unknown role"),
    ({"password": "short1"}, "at least 10 characters"),
    ({"password": "onlyletterslong"}, "digit or symbol"),
    ({"password": " padded-pass-1 "}, "no spaces"),
    ({"display_name": "  "}, "display name is required"),
])
def test_create_user_validates(engine: Engine, fields: dict, message: str) -> None:
    values = {"username": "bob", "display_name": "Bob", "role": "marketing",
              "password": PASSWORD} | fields
    with pytest.raises(UserError, match=message):
        create_user(ADMIN, engine=engine, **values)
    assert _events(engine, "user.create") == []


def test_usernames_are_unique_whatever_the_case(engine: Engine, alice: int) -> None:
    with pytest.raises(UserError, match="taken"):
        create_user(ADMIN, username="ALICE", display_name="Other", role="marketing",
                    password=PASSWORD, engine=engine)


@pytest.mark.parametrize("role", ["manager", "marketing"])
def test_only_admins_manage_users(engine: Engine, alice: int, role: str) -> None:
    actor = Actor("someone", role)
    with pytest.raises(PermissionDenied):
        list_users(actor, engine=engine)
    with pytest.raises(PermissionDenied):
        create_user(actor, username="eve", display_name="Eve", role="admin", password=PASSWORD,
                    engine=engine)
    with pytest.raises(PermissionDenied):
        update_user(actor, alice, role="admin", engine=engine)
    assert _user(engine, alice).role == "manager"


def test_update_audits_each_changed_field_and_nothing_for_no_change(engine: Engine,
                                                                      alice: int) -> None:
    update_user(ADMIN, alice, role="manager", active=True, engine=engine)
    assert _events(engine, "user.update") == []
    update_user(ADMIN, alice, role="marketing", new_password="another-pass-9", engine=engine)
    (event,) = _events(engine, "user.update")
    changes = json.loads(event.changes)
    assert changes["role"] == ["manager", "marketing"]
    assert "another-pass-9" not in event.changes
    assert authenticate("alice", "another-pass-9", engine=engine) is not None


def test_admins_cannot_lock_themselves_out(engine: Engine) -> None:
    me = create_user(ADMIN, username=ADMIN.username, display_name="Ada", role="admin",
                     password=PASSWORD, engine=engine)
    with pytest.raises(UserError, match="your own role"):
        update_user(ADMIN, me.id, role="marketing", engine=engine)
    with pytest.raises(UserError, match="deactivate yourself"):
        update_user(ADMIN, me.id, active=False, engine=engine)


@pytest.mark.parametrize("removal", [{"role": "manager"}, {"active": False},
                                     {"role": "marketing", "active": False}])
def test_the_last_active_admin_cannot_be_demoted_or_deactivated(engine: Engine,
                                                                  removal: dict) -> None:
    """Whoever acts (another admin whose own account is gone, the command line's operator),
    an installation keeps one active admin: an inactive admin does not count."""
    bob = user(engine, "bob", "admin")
    user(engine, "carol", "admin")
    update_user(ADMIN, _id(engine, "carol"), active=False, engine=engine)
    with pytest.raises(UserError, match="bob is the last active admin"):
        update_user(ADMIN, bob.id, engine=engine, **removal)
    assert (_user(engine, bob.id).role, _user(engine, bob.id).active) == ("admin", True)
    assert [json.loads(e.changes) for e in _events(engine, "user.update")] == [
        {"active": [True, False]}]  # carol's deactivation only

    update_user(ADMIN, _id(engine, "carol"), active=True, engine=engine)
    demoted = update_user(ADMIN, bob.id, engine=engine, **removal)  # carol remains
    assert demoted.role != "admin" or not demoted.active
    with pytest.raises(UserError, match="carol is the last active admin"):
        update_user(ADMIN, _id(engine, "carol"), role="manager", engine=engine)


def test_an_inactive_admin_may_be_demoted_and_others_changed_freely(engine: Engine) -> None:
    bob = user(engine, "bob", "admin")
    carol = user(engine, "carol", "admin")
    update_user(ADMIN, carol.id, active=False, engine=engine)
    assert update_user(ADMIN, carol.id, role="manager", engine=engine).role == "manager"
    bob_again = update_user(ADMIN, bob.id, unlock=True, new_password="another-pass-9",
                            engine=engine)
    assert (bob_again.role, bob_again.active) == ("admin", True)


@pytest.mark.parametrize("attempt", range(3))
def test_two_admins_demoting_each_other_at_once_leave_one_admin(engine: Engine,
                                                                attempt: int) -> None:
    """Each sees the other as an admin who remains; the second write must see the first's."""
    first, second = user(engine, "first", "admin"), user(engine, "second", "admin")
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(actor: UserView, target: UserView) -> None:
        start.wait()
        try:
            update_user(actor.actor, target.id, role="manager", engine=engine)
            outcomes.append("demoted")
        except UserError as error:
            outcomes.append(str(error))

    threads = [threading.Thread(target=demote, args=pair)
               for pair in ((first, second), (second, first))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 2 and outcomes.count("demoted") == 1, outcomes
    assert [u.role for u in list_users(ADMIN, engine=engine)].count("admin") == 1


def _id(engine: Engine, username: str) -> int:
    return next(u.id for u in list_users(ADMIN, engine=engine) if u.username == username)


def test_command_line_add_prompts_for_the_password(engine: Engine, database_url: str,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from db.users import service as users

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setattr("sys.stdin", _Terminal())
    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr(users.getpass, "getpass", lambda prompt: next(answers))
    assert users.main(["add", "Jane", "--role", "manager", "--name", "Jane Doe"]) == 0
    assert "Created jane (manager)." in capsys.readouterr().out
    assert authenticate("jane", PASSWORD, engine=engine) is not None
    (event,) = _events(engine, "user.create")
    assert event.source == "cli" and event.actor.startswith("cli:")


def test_command_line_refuses_mismatched_passwords(engine: Engine, database_url: str,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from db.users import service as users

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setattr("sys.stdin", _Terminal())
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr(users.getpass, "getpass", lambda prompt: next(answers))
    assert users.main(["add", "jane", "--role", "manager"]) == 2
    assert "do not match" in capsys.readouterr().err
    assert _events(engine, "user.create") == []


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_command_line_reads_a_piped_password_once(engine: Engine, database_url: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from db.users import service as users

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert users.main(["add", "piped", "--role", "marketing"]) == 0
    assert authenticate("piped", PASSWORD, engine=engine) is not None
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert users.main(["add", "nopass", "--role", "marketing"]) == 2


def test_command_line_checks_the_username_before_the_password(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from db.users import service as users

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert users.main(["add", "no way", "--role", "marketing"]) == 2
    assert "3 to 50 characters" in capsys.readouterr().err


def test_emails_are_validated_and_normalised(engine: Engine) -> None:
    with pytest.raises(UserError, match="not a valid email"):
        create_user(ADMIN, username="bob", display_name="Bob", role="marketing",
                    password=PASSWORD, email="definitely not an email", engine=engine)
    bob = create_user(ADMIN, username="bob", display_name="Bob", role="marketing",
                      password=PASSWORD, email=" Bob@Example.COM ", engine=engine)
    assert bob.email == "bob@example.com"


def test_sign_out_password_change_and_deactivation_revoke_cookies(engine: Engine,
                                                                  alice: int) -> None:
    issued = utcnow()
    assert session_user("alice", issued, engine=engine) is not None
    record_logout("alice", engine=engine)
    assert session_user("alice", issued, engine=engine) is None
    assert session_user("alice", utcnow(), engine=engine) is not None  # a new sign-in
    issued = utcnow()
    update_user(ADMIN, alice, new_password="fresh-password-2", engine=engine)
    assert session_user("alice", issued, engine=engine) is None
    issued = utcnow()
    update_user(ADMIN, alice, active=False, engine=engine)
    assert session_user("alice", utcnow(), engine=engine) is None
    assert [e.action for e in _events(engine, "logout")] == ["logout"]
