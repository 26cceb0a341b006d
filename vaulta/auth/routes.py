"""Sign-in at /login, sign-out by POST, and the settings page (password, sessions, API keys)."""

from __future__ import annotations

from typing import Any

from flask import flash, request, session, url_for
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from vaulta.auth import bp, second_factor
from vaulta.auth.access import acting_user
from vaulta.auth.forms import (
    ApiKeyForm,
    ChangePasswordForm,
    CredentialForm,
    LoginForm,
    PasswordConfirmForm,
)
from vaulta.auth.landing import home_for, safe_next
from vaulta.extensions import limiter
from vaulta.forms import show_error
from vaulta.models import utcnow
from vaulta.models.user import TWO_FACTOR_TOTP
from vaulta.security.device_cookies import device_nonce, remember_device
from vaulta.security.limits import (
    LOGIN_ACCOUNT_LIMIT,
    LOGIN_DEVICE_LIMIT,
    LOGIN_LIMIT,
    by_login_device,
    by_login_email,
    failed,
    login_email,
)
from vaulta.services.errors import CustomerNotActive, DomainError, InvalidCredentials
from vaulta.services.identity import api_keys, two_factor, users
from vaulta.services.maintenance import UnderMaintenance
from vaulta.web import redirect_to, render, wants_partial


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def login() -> Response:
    if current_user.is_authenticated:
        return redirect_to(home_for(current_user))
    if request.method == "POST":
        _count_sign_in_attempt()
    form = LoginForm()
    refused = False
    if form.validate_on_submit():
        try:
            user = users.authenticate(form.email.data or "", form.password.data or "")
        except InvalidCredentials as err:
            show_error(form, err)
        except CustomerNotActive as err:  # the password was right: only its owner learns this
            show_error(form, err)
            refused = True
        else:
            next_url = safe_next(request.args.get("next"))
            if user.second_factor:  # half signed in until the second factor passes
                return second_factor.begin(user, next_url)
            session.clear()  # a fresh session at sign-in: no fixation
            login_user(user)
            remember_device(user.email)
            flash(f"Welcome, {user.full_name}.", "success")
            return redirect_to(next_url or home_for(user))
    status = 403 if refused else 422 if form.errors or form.form_errors else 200
    return render("auth/login.html", form=form, status=status)


def _count_sign_in_attempt() -> None:
    """A sign-in attempt spends this browser's own budget when it holds a device cookie for
    the account (vaulta/security/device_cookies.py), else the budget every unknown device
    shares; only failed attempts are deducted. A device that has spent its own budget counts
    as unknown until its window ends. Raises RateLimitExceeded (429) when the budget is spent.
    """
    if device_nonce(login_email()) is not None:
        try:
            _count_on_this_device()
            return
        except RateLimitExceeded:
            pass  # locked out on its own budget: an unknown device from now on
    _count_on_the_account()


@limiter.limit(LOGIN_DEVICE_LIMIT, key_func=by_login_device, deduct_when=failed)
def _count_on_this_device() -> None:
    """Failed sign-ins from a known device: RATELIMIT_LOGIN_DEVICE per device cookie."""


@limiter.limit(LOGIN_ACCOUNT_LIMIT, key_func=by_login_email, deduct_when=failed)
def _count_on_the_account() -> None:
    """Failed sign-ins from unknown devices: RATELIMIT_LOGIN_ACCOUNT per account (email)."""


SIGNED_OUT_DURING_MAINTENANCE = (
    "You have been signed out in this browser. VAULTA is under maintenance, so sessions on "
    "other devices were not ended: use Settings → Sign out everywhere once it is over."
)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    """Sign out; also ends a sign-in waiting for its second factor.

    During maintenance nothing may be written: the browser's session still ends, but the
    session identifier is not rotated (other copies of the cookie keep working)."""
    message = "You have been signed out."
    if current_user.is_authenticated:
        try:
            users.rotate_session(acting_user())  # the old cookie stops working everywhere
        except UnderMaintenance:
            message = SIGNED_OUT_DURING_MAINTENANCE
        logout_user()
    elif second_factor.PENDING not in session:
        return redirect_to(url_for("auth.login"))
    session.clear()
    flash(message, "info")
    return redirect_to(url_for("auth.login"))


# --- Settings: password, sessions, API keys -------------------------------------------------


def settings_context(**extra: Any) -> dict[str, Any]:
    keys = api_keys.list_keys(acting_user()) if _may_have_keys() else []
    has_totp = current_user.two_factor_method == TWO_FACTOR_TOTP
    recovery_left = two_factor.remaining_recovery_codes(acting_user()) if has_totp else 0
    return {
        "keys": keys,
        "now": utcnow(),
        "scopes_of": api_keys.scopes_of,
        "recovery_left": recovery_left,
        "credential_form": CredentialForm(formdata=None),
        "password_form": PasswordConfirmForm(formdata=None),
        **extra,
    }


def _may_have_keys() -> bool:
    return not current_user.is_staff and current_user.customer_id is not None


@bp.route("/settings")
@login_required
def settings() -> Response:
    return render("auth/settings.html", **settings_context(form=ApiKeyForm()))


@bp.route("/settings/api-keys", methods=["POST"])
@login_required
def create_api_key() -> Response:
    form = ApiKeyForm()
    new_key = None
    if form.validate_on_submit():
        try:
            new_key = api_keys.create(
                acting_user(), form.name.data or "", form.scopes.data or [], form.expires_at()
            )
        except DomainError as err:
            field = "expires_on" if err.field == "expires_at" else None
            show_error(form, err, field=field, required=True)
        else:
            form = ApiKeyForm(formdata=None)
    status = 201 if new_key else 422
    context = settings_context(form=form, new_key=new_key)
    return render("auth/settings.html", "auth/_api_keys.html", status=status, **context)


@bp.route("/settings/api-keys/<int:key_id>/revoke", methods=["POST"])
@login_required
def revoke_api_key(key_id: int) -> Response:
    key = api_keys.revoke(acting_user(), key_id)
    if wants_partial():
        context = settings_context(form=ApiKeyForm(), revoked=key)
        return render("auth/settings.html", "auth/_api_keys.html", **context)
    flash(f"The key {key.name!r} is revoked.", "success")
    return redirect_to(url_for("auth.settings"))


@bp.route("/settings/password", methods=["GET", "POST"])
@login_required
def change_password() -> Response:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            user = users.change_password(
                acting_user(), form.current_password.data or "", form.new_password.data or ""
            )
        except DomainError as err:
            show_error(form, err, required=True)
        else:
            login_user(user)  # this browser carries the new session identifier; others end
            flash("Your password is changed. Every other session has been signed out.", "success")
            return redirect_to(url_for("auth.settings"))
    status = 422 if form.errors else 200
    return render("auth/change_password.html", form=form, status=status)


@bp.route("/settings/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere() -> Response:
    users.sign_out_everywhere(acting_user())
    logout_user()
    session.clear()
    flash("You have been signed out everywhere, on this device too.", "info")
    return redirect_to(url_for("auth.login"))
