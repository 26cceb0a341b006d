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

from vaulta.security.device_cookies import device_nonce


def _configured(setting: str) -> Callable[[], str]:
    def limit() -> str:
        return str(current_app.config[setting])

    limit.__name__ = setting.lower()
    limit.__doc__ = f"The limit in config[{setting!r}]."
    return limit


# Sign-in: every POST per client address; failed POSTs per account (email), shared by the
# devices that have no device cookie for it; failed POSTs per known device.
LOGIN_LIMIT = _configured("RATELIMIT_LOGIN")
LOGIN_ACCOUNT_LIMIT = _configured("RATELIMIT_LOGIN_ACCOUNT")
LOGIN_DEVICE_LIMIT = _configured("RATELIMIT_LOGIN_DEVICE")
# One-time passcode checks (second factor, payment confirmation), per user.
PASSCODE_LIMIT = _configured("RATELIMIT_PASSCODE")
# Payment requests, per user.
PAYMENT_LIMIT = _configured("RATELIMIT_PAYMENT")
# Look-ups that tell whether an account number exists (the payment form's live check), per user.
ACCOUNT_LOOKUP_LIMIT = _configured("RATELIMIT_ACCOUNT_LOOKUP")
# The JSON API: calls per authenticated key; calls refused 401 per client address.
API_LIMIT = _configured("RATELIMIT_API")
API_AUTH_FAILURES_LIMIT = _configured("RATELIMIT_API_AUTH_FAILURES")


def by_client_address() -> str:
    """The client's address (behind a proxy, configure PROXY_FIX_X_FOR so it is the real one)."""
    return get_remote_address()


def login_email() -> str:
    """The email a sign-in form names, normalised (as stored)."""
    return (request.form.get("email") or "").strip().lower()[:254]


def by_login_email() -> str:
    """The email a sign-in form names; counts attempts against one account."""
    return "login:" + login_email()


def by_login_device() -> str:
    """The device cookie this browser holds for the account the sign-in form names
    (vaulta/security/device_cookies.py); counts attempts against that device alone."""
    return "device:" + (device_nonce(login_email()) or "")


def by_user() -> str:
    """The signed-in user (their id), else the client address."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return "address:" + get_remote_address()


def by_api_key() -> str:
    """The public prefix of a bearer key ``vk_<prefix>_<secret>``, else the client address.

    The prefix is public: count against it only once the key has authenticated (as
    vaulta/api/routes.py does), or anyone could spend a key's budget with wrong secrets.
    """
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.startswith("vk_"):
        return "key:" + token[3:].partition("_")[0][:16]
    return "address:" + get_remote_address()


def failed(response: Response) -> bool:
    """For ``deduct_when``: only refused attempts count (4xx/5xx), not successful ones, and
    not a 503 (an outage refused nothing; vaulta/outages.py)."""
    return response.status_code >= 400 and response.status_code != 503


def refused_authentication(response: Response) -> bool:
    """For ``deduct_when``: only calls answered 401 (no valid credentials) count."""
    return response.status_code == 401
