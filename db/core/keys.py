"""How strong a secret key is: an estimate of its entropy, and the rule keys must meet.

A key signs something (the sign-in cookie) so whoever guesses it can forge it; a list of
published defaults catches only the keys someone wrote down. :func:`estimated_bits` instead
estimates how many bits of guessing a key takes, walking it left to right:

- a character that repeats the one before it or continues a sequence from it (``aaaa``,
  ``abcd``, ``4321``) adds 1 bit;
- a stretch of 3 or more characters that already occurred earlier in the key (``abcabc``,
  ``keykeykey``) adds 1 bit per character;
- any other character adds log2 of the alphabet the key draws from: 16 for a key of hex
  digits in one case, else 26 for lower-case letters + 26 for upper-case + 10 for digits +
  33 for anything else, per class present;
- a key of letters alone (and spaces, dashes, underscores or dots), at most a quarter of them
  upper case, is taken for words (``correct-horse-battery``, ``ThisIsMyKey``), which carry
  about 2 bits a character.

It is deliberately pessimistic for text a person made up and fair to random output: 64 hex
characters from ``secrets.token_hex(32)`` estimate about 220 bits (256 real), 43 from
``secrets.token_urlsafe(32)`` about 250, while ``"abcdefghijklmnop" * 3`` estimates 52.
Random output can look like words too: about 4 in 10 million 43-character keys have no digit
and few capitals, and estimate about 86 bits. :func:`new_key` draws those again, so the app
never writes a key it would then refuse.
"""

from __future__ import annotations

import math
import secrets
import string

MIN_KEY_CHARS = 32
MIN_KEY_BITS = 128
HOW_TO_MAKE_ONE = 'python -c "import secrets; print(secrets.token_hex(32))"'
KNOWN_WEAK_KEYS = frozenset({"some_key", "some_signature_key", "abcdef", "changeme", "secret",
                             "random_signature_key"})
_REPEAT = 3  # a stretch this long seen before counts as a repeat
_WORD_CHARACTERS = frozenset(string.ascii_letters + " -_.")
_BITS_PER_WORD_CHARACTER = 2.0


def _alphabet(key: str) -> int:
    if all(c in string.hexdigits for c in key) and (key == key.lower() or key == key.upper()):
        return 16
    classes = [(str.islower, 26), (str.isupper, 26), (str.isdigit, 10)]
    size = sum(n for test, n in classes if any(test(c) for c in key))
    if any(not (c.islower() or c.isupper() or c.isdigit()) for c in key):
        size += 33
    return max(size, 2)


def _in_repeats(key: str) -> list[bool]:
    """Which characters belong to a stretch of 3 that occurred earlier in ``key``."""
    repeated = [False] * len(key)
    for start in range(1, len(key) - _REPEAT + 1):
        # An earlier occurrence starts before ``start`` (it may overlap this one).
        if key.find(key[start:start + _REPEAT], 0, start + _REPEAT - 1) != -1:
            repeated[start:start + _REPEAT] = [True] * _REPEAT
    return repeated


def _looks_like_words(key: str) -> bool:
    # Random output of letters alone is about half upper case; words and CamelCase are not.
    letters = [c for c in key if c.isalpha()]
    return set(key) <= _WORD_CHARACTERS and sum(c.isupper() for c in letters) * 4 <= len(letters)


def estimated_bits(key: str) -> float:
    """A pessimistic estimate of the bits of entropy in ``key`` (see the module docstring)."""
    if _looks_like_words(key):
        per_character = _BITS_PER_WORD_CHARACTER
    else:
        per_character = math.log2(_alphabet(key))
    bits = 0.0
    for i, (character, repeated) in enumerate(zip(key, _in_repeats(key), strict=True)):
        continues = i > 0 and abs(ord(character) - ord(key[i - 1])) <= 1
        bits += 1 if repeated or continues else per_character
    return bits


def key_weakness(key: str) -> str | None:
    """Why ``key`` is too weak to sign with (None when it is strong enough)."""
    if key in KNOWN_WEAK_KEYS:
        return "it is a published example key"
    if len(key) < MIN_KEY_CHARS:
        return f"it has {len(key)} characters, fewer than {MIN_KEY_CHARS}"
    bits = estimated_bits(key)
    if bits < MIN_KEY_BITS:
        return (f"it has an estimated {bits:.0f} bits of entropy, fewer than {MIN_KEY_BITS} "
                "(repeats, runs, sequences and words add little)")
    return None


def new_key() -> str:
    """A random key of 32 bytes (``secrets.token_urlsafe(32)``) that :func:`key_weakness`
    accepts: a draw that reads as words (see the module) is replaced by another."""
    key = secrets.token_urlsafe(32)
    while key_weakness(key):
        key = secrets.token_urlsafe(32)
    return key
