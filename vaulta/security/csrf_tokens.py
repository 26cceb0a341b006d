"""The CSRF token a page carries, signed once per session rather than once per request.

Flask-WTF's ``generate_csrf`` signs the session's raw token with a new
``URLSafeTimedSerializer`` (key derivation, HMAC, JSON, base64) on every request that
renders a form, and every page does (the layout's htmx header and sign-out form): about
0.05 ms of a 0.7 ms page. VAULTA sets ``WTF_CSRF_TIME_LIMIT = None`` (the token lives as long
as the session, config.py), so the timestamp in the signature is never checked and the
token signed for a session's raw token on an earlier request is exactly as valid as a new
one. ``page_token`` keeps the signed tokens of recent sessions in a bounded memo keyed by
the signing key and the raw token; the raw token is in the session cookie anyway, so
nothing lives only in this process. With a time limit configured it signs every request,
as Flask-WTF does.
"""

from __future__ import annotations

from functools import lru_cache

from flask import current_app, g, session
from flask_wtf.csrf import generate_csrf
from itsdangerous import URLSafeTimedSerializer

SALT = "wtf-csrf-token"  # Flask-WTF's (flask_wtf/csrf.py), or its validate_csrf refuses
MEMO_SIZE = 4096  # sessions; about 0.5 MB at most


@lru_cache(maxsize=MEMO_SIZE)
def _signed(secret_key: str | bytes, raw_token: str) -> str:
    return URLSafeTimedSerializer(secret_key, salt=SALT).dumps(raw_token)


def page_token() -> str:
    """The signed CSRF token for this request (Flask-WTF's ``generate_csrf``, memoised).

    Also left where Flask-WTF looks for this request's token (``g``), so form fields that
    render their own ``csrf_token`` get the same one without signing again.
    """
    cfg = current_app.config
    field = cfg.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    token = g.get(field)
    if token is not None:
        return str(token)
    raw = session.get(field)
    if cfg.get("WTF_CSRF_TIME_LIMIT", 3600) is not None or not isinstance(raw, str):
        return str(generate_csrf())  # also makes the raw token of a new session
    token = _signed(cfg.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key, raw)
    setattr(g, field, token)
    return token


def forget_request_token() -> None:
    """Drop this request's token (the session was replaced, e.g. at sign-in)."""
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
