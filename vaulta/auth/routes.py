"""Sign-in at /login, sign-out by POST."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from vaulta.auth import bp
from vaulta.auth.forms import LoginForm
from vaulta.services import users
from vaulta.services.errors import InvalidCredentials
from vaulta.web import redirect_to, render


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths are followed after sign-in (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_for(user: users.User) -> str:
    return url_for("admin.index") if user.is_admin else url_for("accounts.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    if current_user.is_authenticated:
        return redirect_to(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = users.authenticate(form.email.data or "", form.password.data or "")
        except InvalidCredentials as err:
            form.form_errors.append(err.message)
        else:
            session.clear()  # a fresh session at sign-in: no fixation
            login_user(user)
            flash(f"Welcome, {user.full_name}.", "success")
            return redirect_to(_safe_next(request.args.get("next")) or home_for(user))
    status = 422 if form.errors or form.form_errors else 200
    return render("auth/login.html", form=form, status=status)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    users.rotate_session(current_user)  # the old cookie stops working everywhere
    logout_user()
    session.clear()
    flash("You have been signed out.", "info")
    return redirect_to(url_for("auth.login"))
