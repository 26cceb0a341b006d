"""The second step of a sign-in: after a correct password, a user with a second factor
(every admin; customers who turned one on) is only *pending*.

A pending session holds the user's rotating session identifier, the time and a random
attempt id (the mailed code is bound to it), but no Flask-Login user: ``current_user`` stays
anonymous, so nothing protected opens. Every page except the sign-in pages, sign-out, static
files, the health check, the dev outbox and the bearer-key API sends a pending session to
/login/second-factor (htmx requests get ``HX-Redirect``). A pending step expires after
PENDING_SECONDS. The right code replaces the session with a fresh one (no fixation), signs
the user in and marks it ``PASSED``; the idle/absolute timeouts start then.

A signed-in session of a user who has a second factor but has not passed it (an old
session, or another browser when the factor was just turned on) is signed out.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import flash, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from vaulta.auth import bp
from vaulta.auth.forms import ButtonForm, SecondFactorForm
from vaulta.auth.landing import home_for
from vaulta.extensions import limiter
from vaulta.forms import show_error
from vaulta.models import User
from vaulta.models.user import TWO_FACTOR_EMAIL
from vaulta.security import session_timeouts
from vaulta.security.device_cookies import remember_device
from vaulta.security.limits import PASSCODE_LIMIT
from vaulta.services.errors import DomainError
from vaulta.services.identity import signed_in, two_factor
from vaulta.web import redirect_to, render

PENDING = "_vaulta_2fa_pending"
PASSED = "_vaulta_2fa"
PENDING_SECONDS = 600
OPEN_WHILE_PENDING = frozenset(
    {
        "auth.login",
        "auth.second_factor",
        "auth.resend_login_code",
        "auth.logout",
        "auth.request_password_reset",  # someone who cannot finish sign-in may reset
        "auth.confirm_password_reset",
        "static",
    }
)
OPEN_BLUEPRINTS = frozenset({"api", "health", "dev"})
SIGN_IN_AGAIN = "Please sign in again and confirm it is you with your second factor."


def begin(user: User, next_url: str | None) -> Response:
    """After the password: a fresh, pending session; mail a code when that is the factor."""
    session.clear()  # a fresh session at sign-in: no fixation
    attempt = secrets.token_urlsafe(16)
    session[PENDING] = {
        "token": user.session_token,
        "uid": user.id,
        "at": int(session_timeouts.now()),
        "attempt": attempt,
        "next": next_url,
    }
    if user.second_factor == TWO_FACTOR_EMAIL:
        two_factor.send_login_code(user, attempt)
    return redirect_to(url_for("auth.second_factor"))


def _pending() -> dict[str, Any] | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    if session_timeouts.now() - int(pending.get("at", 0)) > PENDING_SECONDS:
        return None
    return pending


def _pending_user(pending: dict[str, Any] | None) -> User | None:
    if pending is None:
        return None
    user = signed_in.by_session_token(str(pending.get("token", "")))
    return user if user is not None and user.second_factor else None


def by_pending_user() -> str:
    """Rate-limit key: the pending user, else the client address."""
    pending = session.get(PENDING)
    if isinstance(pending, dict) and pending.get("uid"):
        return f"2fa:{pending['uid']}"
    return "address:" + get_remote_address()


def _back_to_login() -> Response:
    session.pop(PENDING, None)
    flash("Your sign-in took too long or was interrupted. Please sign in again.", "info")
    return redirect_to(url_for("auth.login"))


@bp.route("/login/second-factor", methods=["GET", "POST"])
@limiter.limit(PASSCODE_LIMIT, key_func=by_pending_user, methods=["POST"])
def second_factor() -> Response:
    pending = _pending()
    user = _pending_user(pending)
    if pending is None or user is None:
        return _back_to_login()
    form = SecondFactorForm()
    if form.validate_on_submit():
        try:
            two_factor.verify_login(user, str(pending["attempt"]), form.code.data or "")
        except DomainError as err:
            show_error(form, err, field="code", required=True)
        else:
            session.clear()  # a new session for the signed-in user: no fixation
            login_user(user)
            session[PASSED] = True
            remember_device(user.email)  # only now: a password alone makes no known device
            flash(f"Welcome, {user.full_name}.", "success")
            return redirect_to(pending.get("next") or home_for(user))
    status = 422 if form.errors else 200
    return render("auth/second_factor.html", status=status, form=form, method=user.second_factor)


@bp.route("/login/second-factor/resend", methods=["POST"])
@limiter.limit(PASSCODE_LIMIT, key_func=by_pending_user)
def resend_login_code() -> Response:
    pending = _pending()
    user = _pending_user(pending)
    if pending is None or user is None:
        return _back_to_login()
    if ButtonForm().validate_on_submit() and user.second_factor == TWO_FACTOR_EMAIL:
        two_factor.send_login_code(user, str(pending["attempt"]))
        flash("A new code is on its way. Earlier codes no longer work.", "info")
    return redirect_to(url_for("auth.second_factor"))


@bp.before_app_request
def enforce_second_factor() -> Response | None:
    """Pending sign-ins go to the second step; unconfirmed signed-in sessions end."""
    if request.endpoint is None or request.blueprint in OPEN_BLUEPRINTS:
        return None
    if current_user.is_authenticated:
        if current_user.second_factor and not session.get(PASSED):
            logout_user()
            session.clear()
            flash(SIGN_IN_AGAIN, "info")
            return redirect_to(url_for("auth.login"))
        return None
    if PENDING in session and request.endpoint not in OPEN_WHILE_PENDING:
        return redirect_to(url_for("auth.second_factor"))
    return None
