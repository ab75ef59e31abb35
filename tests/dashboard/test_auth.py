"""The sign-in cookie reader: only tokens the app wrote, unexpired, ever come back."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
from hypothesis import given
from hypothesis import strategies as st

from dashboard.auth import COOKIE_DAYS, SessionCookie, read_session_cookie

KEY = "k" * 28 + "0123456789abcdefghijklmnopqrstuvwxyz"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _token(payload: dict[str, object], *, key: str = KEY, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=algorithm)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_cookie_the_app_wrote_gives_its_user_and_issue_time() -> None:
    expires = NOW + timedelta(hours=20)
    cookie = read_session_cookie(_token({"username": "ada", "exp_date": expires.timestamp()}),
                                 KEY, now=NOW)
    assert cookie == SessionCookie("ada", expires - timedelta(days=COOKIE_DAYS))


def test_anything_else_is_refused() -> None:
    good = {"username": "ada", "exp_date": (NOW + timedelta(hours=1)).timestamp()}
    refused = {
        "alg none": _b64(b'{"alg":"none","typ":"JWT"}') + "." + _b64(json.dumps(good).encode())
        + ".",
        "HS512, another key": _token(good, key="x" * 64, algorithm="HS512"),
        "HS512, our key": _token(good, algorithm="HS512"),
        "HS256, another key": _token(good, key="y" * 64),
        "truncated": _token(good)[:-5],
        "not base64": "%%%.&&&.***",
        "empty": "",
        "expired": _token({"username": "ada", "exp_date": (NOW - timedelta(seconds=1))
                           .timestamp()}),
        "no username": _token({"exp_date": good["exp_date"]}),
        "username not text": _token({"username": ["ada"], "exp_date": good["exp_date"]}),
        "no exp_date": _token({"username": "ada"}),
        "exp_date text": _token({"username": "ada", "exp_date": "tomorrow"}),
        "exp_date bool": _token({"username": "ada", "exp_date": True}),
        "exp_date huge": _token({"username": "ada", "exp_date": 1e300}),
        "payload a list": _b64(b'{"alg":"HS256","typ":"JWT"}') + "." + _b64(b"[1]") + ".x",
    }
    assert {name: read_session_cookie(token, KEY, now=NOW) for name, token in refused.items()
            } == dict.fromkeys(refused)


@given(st.text(max_size=300))
def test_no_string_makes_the_reader_raise(token: str) -> None:
    assert read_session_cookie(token, KEY, now=NOW) is None


@given(st.lists(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                 "0123456789-_=", max_size=60), min_size=1, max_size=4))
def test_no_dotted_base64_makes_the_reader_raise(parts: list[str]) -> None:
    assert read_session_cookie(".".join(parts), KEY, now=NOW) is None
