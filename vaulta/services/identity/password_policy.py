"""The password policy: length, a list of common passwords, and a few well-known weak patterns.

``password_problem`` is pure (no Flask, no database): the users service calls it when a
login is created and when a password is changed.

The common-password list (``common-passwords.txt.gz`` beside this module, 19,640 entries,
most frequent first) is the one Django ships as ``django/contrib/auth/common-passwords.txt.gz``
(Django 5.2.19, BSD-3-Clause; compiled by Royce Williams from leaked-password corpora).
Most entries are shorter than the 12-character minimum, so the patterns below also refuse
long passwords built from them: a listed password with digits or symbols appended
(``password1234!``), a listed password repeated (``qwertyqwerty``), one short unit repeated
(``abcabcabcabc``) and runs of consecutive characters (``123456789012``, ``abcdefghijkl``).
"""

from __future__ import annotations

import gzip
import itertools
import re
from functools import cache
from pathlib import Path

MIN_LENGTH = 12
MAX_LENGTH = 1024
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt.gz")

_TRAILING_DIGITS_AND_SYMBOLS = re.compile(r"[\d\W_]+$")


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list, lower-cased (loaded once per process)."""
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as f:
        return frozenset(line.strip().lower() for line in f if line.strip())


def password_problem(password: str, *, email: str = "") -> str | None:
    """What is wrong with ``password`` for a login with ``email``, or None when it is fine."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    folded = password.strip().lower()
    email = email.strip().lower()
    if email and (folded == email or folded == email.partition("@")[0]):
        return "Your password must not be your email address."
    if _is_common(folded):
        return "This password is too common. Choose a longer phrase of unrelated words."
    if _is_repeated(folded) or _is_sequence(folded):
        return "This password is too easy to guess. Choose a longer phrase of unrelated words."
    return None


def _is_common(folded: str) -> bool:
    listed = common_passwords()
    if folded in listed:
        return True
    stem = _TRAILING_DIGITS_AND_SYMBOLS.sub("", folded)
    return bool(stem) and stem in listed


def _is_repeated(folded: str) -> bool:
    """One unit repeated: ``aaaaaaaaaaaa``, ``abcabcabcabc``, ``qwertyqwerty``."""
    size = len(folded)
    for unit in range(1, size // 2 + 1):
        if size % unit == 0 and folded[:unit] * (size // unit) == folded:
            return unit <= 4 or folded[:unit] in common_passwords()
    return False


def _is_sequence(folded: str) -> bool:
    """Consecutive characters up or down: ``123456789012``, ``abcdefghijkl``, ``zyxwvu…``."""
    steps = {
        (ord(b) - ord(a)) % 10 if a.isdigit() and b.isdigit() else ord(b) - ord(a)
        for a, b in itertools.pairwise(folded)
    }
    return steps in ({1}, {-1}, {9})
