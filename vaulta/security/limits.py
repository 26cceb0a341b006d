"""Named rate limits and the keys they count by, for every blueprint to reuse.

Each limit is a callable that reads its string from the app's config at request time, so a
deployment (or a test) changes it without code::

    from vaulta.extensions import limiter
    from vaulta.security.limits import PAYMENT_LIMIT, by_user

    @limiter.limit(PAYMENT_LIMIT, key_func=by_user, methods=["POST"])
    def create_payment(): ...

Limit strings use Flask-Limiter's notation (``"10/minute"``, ``"100 per hour; 5/minute"``).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from werkzeug.wrappers import Response


def _configured(setting: str) -> Callable[[], str]:
    def limit() -> str:
        return str(current_app.config[setting])

    limit.__name__ = setting.lower()
    limit.__doc__ = f"The limit in config[{setting!r}]."
    return limit


# Sign-in: every POST per client address; failed POSTs per account (email).
LOGIN_LIMIT = _configured("RATELIMIT_LOGIN")
LOGIN_ACCOUNT_LIMIT = _configured("RATELIMIT_LOGIN_ACCOUNT")
# One-time passcode checks (second factor, payment confirmation), per user.
PASSCODE_LIMIT = _configured("RATELIMIT_PASSCODE")
# Payment requests, per user.
PAYMENT_LIMIT = _configured("RATELIMIT_PAYMENT")
# The JSON API, per key.
API_LIMIT = _configured("RATELIMIT_API")


def by_client_address() -> str:
    """The client's address (behind a proxy, configure PROXY_FIX_X_FOR so it is the real one)."""
    return get_remote_address()


def by_login_email() -> str:
    """The email a sign-in form names, normalised; counts attempts against one account."""
    email = (request.form.get("email") or "").strip().lower()[:254]
    return "login:" + email


def by_user() -> str:
    """The signed-in user (their id), else the client address."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return "address:" + get_remote_address()


def by_api_key() -> str:
    """The public prefix of a bearer key ``vk_<prefix>_<secret>``, else the client address."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.startswith("vk_"):
        return "key:" + token[3:].partition("_")[0][:16]
    return "address:" + get_remote_address()


def failed(response: Response) -> bool:
    """For ``deduct_when``: only refused attempts count (4xx/5xx), not successful ones, and
    not a 503 (an outage refused nothing; vaulta/outages.py)."""
    return response.status_code >= 400 and response.status_code != 503
