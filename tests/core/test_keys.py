"""Key strength by estimated entropy: made-up keys are refused, random ones of 32 bytes pass."""

from __future__ import annotations

import base64
import math
import random
import secrets
from collections.abc import Callable

import pytest

from db.core import keys
from db.core.keys import MIN_KEY_BITS, MIN_KEY_CHARS, estimated_bits, key_weakness, new_key


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


@pytest.mark.parametrize("make", [lambda draw: draw.randbytes(32).hex(),
                                  lambda draw: base64.urlsafe_b64encode(
                                      draw.randbytes(32)).rstrip(b"=").decode()],
                         ids=["token_hex(32)", "token_urlsafe(32)"])
def test_random_keys_of_32_bytes_pass(make: Callable[[random.Random], str]) -> None:
    """3,000 keys as ``secrets`` makes them, from seeded bytes: the run is the same every
    time (random ones fail about 4 times in 10 million, see ``new_key``)."""
    draw = random.Random(20261202)
    estimates = [estimated_bits(make(draw)) for _ in range(3_000)]
    assert min(estimates) >= MIN_KEY_BITS


def test_a_random_draw_that_reads_as_words_is_drawn_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # As secrets.token_urlsafe(32) can make it: no digit, 4 capitals in 42 letters.
    wordy = "xkqzvbnmWrtplkjhgfdsQwertyuiopzxKqvbnmwr-Tp"
    assert len(wordy) == 43 and key_weakness(wordy)
    strong = "Xq9-" + secrets.token_hex(20)
    draws = iter([wordy, strong])
    monkeypatch.setattr(keys.secrets, "token_urlsafe", lambda size: next(draws))
    assert new_key() == strong


def test_new_keys_pass_and_differ() -> None:
    made = {new_key() for _ in range(200)}
    assert len(made) == 200 and not any(key_weakness(key) for key in made)


def test_the_estimate_counts_repeats_runs_and_sequences_as_one_bit() -> None:
    assert estimated_bits("a" * 40) == pytest.approx(2 + 39)  # a word character, then runs
    # Four characters from all four classes (95 symbols), then 36 repeating them.
    assert estimated_bits("Q7#x" * 10) == pytest.approx(4 * math.log2(95) + 36)
