"""Password hashing and the password policy.

bcrypt, because its cost factor keeps guessing slow even if the user table leaks.
"""

from __future__ import annotations

import bcrypt

BCRYPT_ROUNDS = 12
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_BYTES = 72  # bcrypt ignores everything past 72 bytes: refuse rather than truncate


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode()[:MAX_PASSWORD_BYTES], password_hash.encode())
    except ValueError:  # a malformed stored hash never matches
        return False


# Checked against when the username is unknown, so that a wrong name costs the same bcrypt
# work as a wrong password and response times do not reveal which usernames exist.
DUMMY_HASH = hash_password("custdb-dummy-password-never-matches")


def password_problems(password: str) -> list[str]:
    """Why ``password`` is not acceptable (empty when it is)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"at least {MIN_PASSWORD_LENGTH} characters")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        problems.append(f"at most {MAX_PASSWORD_BYTES} bytes")
    if password != password.strip():
        problems.append("no spaces at the start or end")
    if password.isalpha() or password.isdigit():
        problems.append("letters and at least one digit or symbol")
    return problems
