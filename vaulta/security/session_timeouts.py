"""Idle and absolute session timeouts.

The signed session cookie carries the sign-in time and the time of the last request (epoch
seconds). Before each request of a signed-in user: more than SESSION_IDLE_MINUTES since the
last request, or more than SESSION_ABSOLUTE_HOURS since sign-in, ends the session with a
message and a redirect to the sign-in page. The last-request stamp is rewritten only when it
is at least a minute old, so most responses leave the cookie unchanged (not re-signed). A
copied cookie carries the same times, so it expires with the original.

``now()`` is the clock; tests replace it (``monkeypatch.setattr(sessions, "now", ...)``).
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, current_app, flash, request, session, url_for
from flask_login import current_user, logout_user, user_logged_in
from werkzeug.wrappers import Response

from vaulta.error_handlers import error_response, wants_json
from vaulta.web import is_htmx, redirect_to

LOGIN_AT = "_vaulta_login_at"
SEEN_AT = "_vaulta_seen_at"
# The last-request stamp moves in steps of this size (so a session may end up to this much
# before SESSION_IDLE_MINUTES of true inactivity, never after).
SEEN_GRANULARITY_SECONDS = 60

IDLE_MESSAGE = "You were signed out after {minutes} minutes without activity. Please sign in again."
ABSOLUTE_MESSAGE = "Your session reached its {hours}-hour limit. Please sign in again."


def now() -> float:
    """The current time in epoch seconds (the one clock this module reads)."""
    return time.time()


def start(session_data: Any | None = None) -> None:
    """Stamp a new sign-in: both times are now."""
    data = session if session_data is None else session_data
    stamp = int(now())
    data[LOGIN_AT] = stamp
    data[SEEN_AT] = stamp


def _on_login(_app: Flask, **_extra: Any) -> None:
    # A fresh sign-in clears the session first, so the stamps are absent; a re-login after a
    # password change keeps the original sign-in time (the absolute limit still applies).
    if LOGIN_AT not in session:
        start()


def expiry_message() -> str | None:
    """Why the current session has expired, or None when it is still valid."""
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return None
    cfg = current_app.config
    minutes, hours = int(cfg["SESSION_IDLE_MINUTES"]), int(cfg["SESSION_ABSOLUTE_HOURS"])
    current = now()
    if current - login_at > hours * 3600:
        return ABSOLUTE_MESSAGE.format(hours=hours)
    if current - seen_at > minutes * 60:
        return IDLE_MESSAGE.format(minutes=minutes)
    return None


def enforce_timeouts() -> Response | None:
    """before_request: end an expired session, otherwise record this request as activity."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    if not isinstance(session.get(LOGIN_AT), int) or not isinstance(session.get(SEEN_AT), int):
        # A session signed in before these stamps existed: its clock starts now.
        start()
        return None
    message = expiry_message()
    if message is None:
        stamp = int(now())
        # Re-stamp at most once a minute: an unchanged session is not re-signed and re-sent.
        if stamp - session[SEEN_AT] >= SEEN_GRANULARITY_SECONDS:
            session[SEEN_AT] = stamp
        return None
    logout_user()
    session.clear()
    if wants_json():
        return error_response(401, message, "session_expired")
    flash(message, "info")
    next_url = request.full_path.rstrip("?") if request.method == "GET" and not is_htmx() else None
    return redirect_to(url_for("auth.login", next=next_url))


def init_app(app: Flask) -> None:
    user_logged_in.connect(_on_login)  # idempotent: one receiver, whatever the number of apps
    app.before_request(enforce_timeouts)
