"""Device cookies: a browser that has signed in as an account keeps its own budget of failed
sign-ins for it, so nobody can lock the owner out by failing on purpose.

OWASP, "Slow Down Online Guessing Attacks with Device Cookies"
(https://owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies).
After a complete sign-in (password, and the second factor where the user has one) the
browser gets a cookie signed with ``SECRET_KEY`` (itsdangerous, the signer Flask's session
uses, with its own salt) that names the account's normalised email and a random nonce. A
sign-in attempt for that account that presents it counts its failures against that device
(``device:<nonce>``, ``RATELIMIT_LOGIN_DEVICE``); attempts without one share the account's
budget (``RATELIMIT_LOGIN_ACCOUNT``). The counting is in vaulta/auth/routes.py; the counts
live in the rate-limit storage, never in this process.

The cookie authenticates nothing and skips nothing: it only chooses which budget an attempt
spends. It is ``HttpOnly``, ``SameSite=Lax``, ``Secure`` wherever the session cookie is
(production), sent only to the sign-in pages (its path), and accepted for
``DEVICE_COOKIE_DAYS`` after it was issued. Each sign-in issues a new one.
"""

from __future__ import annotations

import secrets

from flask import after_this_request, current_app, request, url_for
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.wrappers import Response

COOKIE_NAME = "vaulta_device"
SALT = "vaulta.device-cookie"
NONCE_BYTES = 16


def _serializer() -> URLSafeTimedSerializer:
    """Signs with SECRET_KEY and accepts SECRET_KEY_FALLBACKS, as Flask's session does."""
    config = current_app.config
    keys = [*(config.get("SECRET_KEY_FALLBACKS") or ()), current_app.secret_key]
    return URLSafeTimedSerializer(keys, salt=SALT)


def _lifetime_seconds() -> int:
    return int(current_app.config["DEVICE_COOKIE_DAYS"]) * 24 * 3600


def device_nonce(login: str) -> str | None:
    """This browser's device nonce when its cookie is genuine, current and was issued for
    ``login`` (a normalised email); None for an unknown device."""
    raw = request.cookies.get(COOKIE_NAME)
    if not raw or not login:
        return None
    try:
        payload = _serializer().loads(raw, max_age=_lifetime_seconds())
    except BadData:
        return None
    if not isinstance(payload, dict) or payload.get("login") != login:
        return None
    nonce = payload.get("nonce")
    return nonce if isinstance(nonce, str) and nonce else None


def remember_device(login: str) -> None:
    """Give this browser a new device cookie for ``login`` with the current response."""
    value = _serializer().dumps({"login": login, "nonce": secrets.token_urlsafe(NONCE_BYTES)})
    secure = bool(current_app.config["SESSION_COOKIE_SECURE"])
    path = url_for("auth.login")

    @after_this_request
    def _set_cookie(response: Response) -> Response:
        response.set_cookie(
            COOKIE_NAME,
            value,
            max_age=_lifetime_seconds(),
            path=path,
            secure=secure,
            httponly=True,
            samesite="Lax",
        )
        return response
