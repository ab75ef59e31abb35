"""Password hashing and the password policy.

bcrypt, because its cost factor keeps guessing slow even if the user table leaks.

A password is hashed and checked as its Unicode NFC form, so the same characters typed on
another keyboard or system (a composed "é" or an "e" plus a combining accent) sign in alike.
bcrypt reads at most 72 bytes, so the policy refuses longer passwords (measured in UTF-8 after
normalising) when they are set, and :func:`could_have_been_set` lets sign-in refuse a longer
one without running bcrypt: it cannot be anyone's password.
"""

from __future__ import annotations

import unicodedata

import bcrypt

BCRYPT_ROUNDS = 12
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_BYTES = 72  # bcrypt ignores everything past 72 bytes: refuse rather than truncate


def _encoded(password: str) -> bytes:
    return unicodedata.normalize("NFC", password).encode()


def could_have_been_set(password: str) -> bool:
    """Whether ``password`` fits bcrypt (at most 72 UTF-8 bytes in NFC), as every set one does."""
    return len(_encoded(password)) <= MAX_PASSWORD_BYTES


def hash_password(password: str) -> str:
    return bcrypt.hashpw(_encoded(password), bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


def verify_password(password: str, password_hash: str) -> bool:
    """Whether ``password`` (NFC) matches; False for one that could never have been set."""
    if not could_have_been_set(password):
        return False
    try:
        return bcrypt.checkpw(_encoded(password), password_hash.encode())
    except ValueError:  # a malformed stored hash never matches
        return False


# Checked against when the username is unknown, so that a wrong name costs the same bcrypt
# work as a wrong password and response times do not reveal which usernames exist.
DUMMY_HASH = hash_password("custdb-dummy-password-never-matches")


def password_problems(password: str) -> list[str]:
    """Why ``password`` is not acceptable (empty when it is)."""
    problems = []
    if len(unicodedata.normalize("NFC", password)) < MIN_PASSWORD_LENGTH:
        problems.append(f"at least {MIN_PASSWORD_LENGTH} characters")
    if not could_have_been_set(password):
        problems.append(f"at most {MAX_PASSWORD_BYTES} bytes")
    if password != password.strip():
        problems.append("no spaces at the start or end")
    if password.isalpha() or password.isdigit():
        problems.append("letters and at least one digit or symbol")
    return problems
