"""Text that one person types and others read: characters that must never be stored.

``display_problem`` finds what a name, reference, description or reason may not hold:

- control characters (C0 except tab, line feed and carriage return; DEL; C1), which cannot
  be stored in PostgreSQL (NUL) or shown;
- bidirectional controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C), which
  reorder what is displayed: "Invoice", U+202E, "FDP.exe" shows as "Invoiceexe.PDF"; a
  reference or a customer's name could be made to read as something else (display
  spoofing, CVE-2021-42574 "Trojan Source").

Forms (vaulta/validators.py) and services (InvalidInput naming the field) use it, so the
web, the API and the command line refuse the same characters with the same message.
A leaf module: it imports nothing from the app.
"""

from __future__ import annotations

import re
import unicodedata

BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings and overrides (LRE RLE PDF LRO RLO)
    "\u2066\u2067\u2068\u2069"  # isolates (LRI RLI FSI PDI)
    "\u200e\u200f\u061c"  # marks (LRM RLM ALM)
)
# C0 controls other than tab, LF and CR; DEL; C1 controls; lone surrogates (which no
# encoder writes). Tab and line breaks belong to multi-line text and whitespace rules.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_BIDI = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")


def describe(char: str) -> str:
    """``'\\u202e'`` → ``'U+202E (RIGHT-TO-LEFT OVERRIDE)'``."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


def display_problem(text: str | None) -> str | None:
    """Why ``text`` may not be stored as something people read, or None when it may."""
    if not text:
        return None
    control = CONTROL_CHARACTERS.search(text)
    if control:
        return (
            f"Remove the control character {describe(control.group())}: "
            "it cannot be stored or shown."
        )
    bidi = _BIDI.search(text)
    if bidi:
        return (
            f"Remove the invisible text-direction character {describe(bidi.group())}: "
            "it makes text display in a different order than it was written."
        )
    return None
