"""Settings for the second factor: enrol an authenticator app (QR code rendered here, on the
server), recovery codes, turn mailed sign-in codes on or off (customers)."""

from __future__ import annotations

import segno
from flask import flash, session, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from vaulta.auth import bp
from vaulta.auth.access import acting_user
from vaulta.auth.forms import ApiKeyForm, CredentialForm, PasswordConfirmForm, SecondFactorForm
from vaulta.auth.routes import settings_context
from vaulta.auth.second_factor import PASSED
from vaulta.extensions import limiter
from vaulta.forms import show_error
from vaulta.models.user import TWO_FACTOR_TOTP
from vaulta.security.limits import PASSCODE_LIMIT, by_user
from vaulta.services.errors import DomainError
from vaulta.services.identity import two_factor
from vaulta.web import redirect_to, render


def qr_data_uri(text: str) -> str:
    """A QR code of ``text`` as an SVG ``data:`` URI (the CSP allows data: images)."""
    return str(segno.make(text, error="m").svg_data_uri(scale=5, light="#fff"))


def _settings_page(status: int, **extra: object) -> Response:
    context = settings_context(form=ApiKeyForm(formdata=None), **extra)
    return render("auth/settings.html", status=status, **context)


# --- Authenticator app -------------------------------------------------------------------


@bp.route("/settings/two-factor/totp", methods=["POST"])
@login_required
def start_totp() -> Response:
    two_factor.begin_totp_enrolment(acting_user())
    return redirect_to(url_for("auth.totp_setup"))


def _setup_page(form: SecondFactorForm, status: int = 200) -> Response:
    secret = acting_user().totp_secret or ""
    uri = two_factor.provisioning_uri(acting_user())
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    context = {"form": form, "qr": qr_data_uri(uri), "secret": grouped}
    return render("auth/totp_setup.html", status=status, **context)


@bp.route("/settings/two-factor/totp")
@login_required
def totp_setup() -> Response:
    user = acting_user()
    if user.two_factor_method == TWO_FACTOR_TOTP or not user.totp_secret:
        return redirect_to(url_for("auth.settings"))
    return _setup_page(SecondFactorForm())


@bp.route("/settings/two-factor/totp/confirm", methods=["POST"])
@login_required
@limiter.limit(PASSCODE_LIMIT, key_func=by_user)
def confirm_totp() -> Response:
    form = SecondFactorForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.confirm_totp_enrolment(acting_user(), form.code.data or "")
        except DomainError as err:
            show_error(form, err, field="code", required=True)
        else:
            session[PASSED] = True  # this session just proved the new factor
            return render("auth/recovery_codes.html", codes=codes, enrolled=True)
    return _setup_page(form, status=422)


@bp.route("/settings/two-factor/totp/disable", methods=["POST"])
@login_required
@limiter.limit(PASSCODE_LIMIT, key_func=by_user)
def disable_totp() -> Response:
    form = CredentialForm()
    if form.validate_on_submit():
        try:
            two_factor.disable_totp(acting_user(), form.credential.data or "")
        except DomainError as err:
            show_error(form, err, field="credential", required=True)
        else:
            flash("The authenticator app is off; its recovery codes no longer work.", "success")
            return redirect_to(url_for("auth.settings"))
    return _settings_page(422, credential_form=form)


@bp.route("/settings/two-factor/recovery-codes", methods=["POST"])
@login_required
@limiter.limit(PASSCODE_LIMIT, key_func=by_user)
def regenerate_recovery_codes() -> Response:
    form = CredentialForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.regenerate_recovery_codes(acting_user(), form.credential.data or "")
        except DomainError as err:
            show_error(form, err, field="credential", required=True)
        else:
            return render("auth/recovery_codes.html", codes=codes, enrolled=False)
    return _settings_page(422, credential_form=form)


# --- Mailed codes (customers choose them; admins always have them) -----------------------


@bp.route("/settings/two-factor/email", methods=["POST"])
@login_required
@limiter.limit(PASSCODE_LIMIT, key_func=by_user)
def start_email_codes() -> Response:
    two_factor.start_email_enrolment(acting_user())
    flash("We mailed you a code: enter it to turn sign-in codes on.", "info")
    return redirect_to(url_for("auth.email_codes"))


@bp.route("/settings/two-factor/email")
@login_required
def email_codes() -> Response:
    return render("auth/email_codes.html", form=SecondFactorForm())


@bp.route("/settings/two-factor/email/confirm", methods=["POST"])
@login_required
@limiter.limit(PASSCODE_LIMIT, key_func=by_user)
def confirm_email_codes() -> Response:
    form = SecondFactorForm()
    if form.validate_on_submit():
        try:
            two_factor.confirm_email_enrolment(acting_user(), form.code.data or "")
        except DomainError as err:
            show_error(form, err, field="code", required=True)
        else:
            session[PASSED] = True  # this session just proved the new factor
            flash("Sign-in codes by mail are on.", "success")
            return redirect_to(url_for("auth.settings"))
    return render("auth/email_codes.html", form=form, status=422)


@bp.route("/settings/two-factor/email/disable", methods=["POST"])
@login_required
@limiter.limit(PASSCODE_LIMIT, key_func=by_user)
def disable_email_codes() -> Response:
    form = PasswordConfirmForm()
    if form.validate_on_submit():
        try:
            two_factor.disable_email(acting_user(), form.password.data or "")
        except DomainError as err:
            show_error(form, err, field="password", required=True)
        else:
            flash("Sign-in codes by mail are off.", "success")
            return redirect_to(url_for("auth.settings"))
    return _settings_page(422, password_form=form)
