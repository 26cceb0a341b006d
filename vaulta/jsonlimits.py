"""JSON nested deeper than a small limit is refused before it is parsed.

Python's parser recurses once per level: ``[`` x 100,000 raises RecursionError (a 500) and
costs a deep stack for nothing. ``nesting_exceeds`` finds the depth with no recursion and
stops at the first bracket past the limit; ``DepthLimitedJSONProvider`` (Flask's public
JSON provider API, set as the app's ``app.json`` in create_app) runs it before every
``loads``, so ``request.get_json`` answers a too-deep body as invalid JSON (a ValueError).
vaulta/security/input.py turns that into a 400 with a clear message.

A leaf module: it imports nothing from the app.
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, has_app_context
from flask.json.provider import DefaultJSONProvider

DEFAULT_MAX_DEPTH = 32
# A JSON string: quotes around anything but quotes and backslashes, or escapes. Unrolled
# ("normal* (special normal*)*") so that a long string is one linear scan.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_OPENING = frozenset(b"[{")
_BRACKETS = b"[]{}"
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _BRACKETS)


class JSONTooDeep(ValueError):
    """The document nests arrays and objects deeper than the limit."""


def nesting_exceeds(data: str | bytes, limit: int) -> bool:
    """True when ``data`` opens more than ``limit`` arrays/objects inside one another.

    Brackets inside strings do not count. An unterminated string leaves its brackets
    counted, which can only make a malformed document look deeper.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    if brackets.count(b"[") + brackets.count(b"{") <= limit:
        return False  # too few to nest that deep: most documents stop here
    depth = 0
    for byte in brackets:
        if byte in _OPENING:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def max_depth() -> int:
    """JSON_MAX_DEPTH of the current app (the default outside one)."""
    if has_app_context():
        return int(current_app.config.get("JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH))
    return DEFAULT_MAX_DEPTH


class DepthLimitedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, refusing documents nested deeper than JSON_MAX_DEPTH."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        limit = max_depth()
        if nesting_exceeds(s, limit):
            raise JSONTooDeep(f"JSON nested deeper than {limit} levels.")
        return super().loads(s, **kwargs)
