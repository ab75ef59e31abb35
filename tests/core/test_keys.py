"""Key strength by estimated entropy: made-up keys are refused, random ones of 32 bytes pass."""

from __future__ import annotations

import math
import secrets

import pytest

from db.core.keys import MIN_KEY_BITS, MIN_KEY_CHARS, estimated_bits, key_weakness


@pytest.mark.parametrize("key", [
    "abcdefghijklmnop" * 3,  # 48 characters, 16 distinct: accepted before
    "0123456789abcdef" * 4,
    "thisismysupersecretcookiekeyforcustdbapp",
    "ThisIsMySuperSecretCookieKeyForCustdbApp",
    "correct-horse-battery-staple-correct-horse",
    "P@ssw0rd!" * 4,
    "Kq7-" * 12,
    "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLK",
])
def test_long_keys_with_little_entropy_are_refused(key: str) -> None:
    assert len(key) >= MIN_KEY_CHARS
    assert estimated_bits(key) < MIN_KEY_BITS
    assert "estimated" in (key_weakness(key) or "")


def test_short_and_published_keys_are_refused() -> None:
    assert "fewer than 32" in (key_weakness(secrets.token_urlsafe(16)) or "")
    assert "published" in (key_weakness("some_signature_key") or "")


@pytest.mark.parametrize("make", [lambda: secrets.token_hex(32),
                                  lambda: secrets.token_urlsafe(32),
                                  lambda: secrets.token_urlsafe(24)])
def test_random_keys_of_at_least_24_bytes_always_pass(make: object) -> None:
    assert callable(make)
    estimates = [estimated_bits(make()) for _ in range(3_000)]
    assert min(estimates) >= MIN_KEY_BITS


def test_the_estimate_counts_repeats_runs_and_sequences_as_one_bit() -> None:
    assert estimated_bits("a" * 40) == pytest.approx(2 + 39)  # a word character, then runs
    # Four characters from all four classes (95 symbols), then 36 repeating them.
    assert estimated_bits("Q7#x" * 10) == pytest.approx(4 * math.log2(95) + 36)
