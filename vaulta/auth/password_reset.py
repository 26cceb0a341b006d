"""Password reset: ask for a code at /login/reset, set a new password at /login/reset/confirm.

Both steps answer the same whatever the address (no account enumeration, see
vaulta/services/identity/password_reset.py). Neither signs anyone in: the reset ends every session
and the next sign-in still asks for the second factor. Both POSTs are throttled per client
address and per email.
"""

from __future__ import annotations

from flask import flash, url_for
from werkzeug.wrappers import Response

from vaulta.auth import bp
from vaulta.auth.forms import ResetConfirmForm, ResetRequestForm
from vaulta.extensions import limiter
from vaulta.forms import show_error
from vaulta.security.limits import LOGIN_ACCOUNT_LIMIT, LOGIN_LIMIT, PASSCODE_LIMIT, by_login_email
from vaulta.services.errors import InvalidInput
from vaulta.services.identity import password_reset
from vaulta.web import redirect_to, render

RESET_DONE = "Your password is reset and every session has been signed out. Sign in with it."


@bp.route("/login/reset", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
@limiter.limit(LOGIN_ACCOUNT_LIMIT, key_func=by_login_email, methods=["POST"])
def request_password_reset() -> Response:
    form = ResetRequestForm()
    if form.validate_on_submit():
        email = form.email.data or ""
        password_reset.request_reset(email)
        # The same page whether or not a login has this address.
        confirm = ResetConfirmForm(formdata=None, data={"email": email.strip()})
        return render("auth/reset_confirm.html", form=confirm, sent=True)
    status = 422 if form.errors else 200
    return render("auth/reset_request.html", form=form, status=status)


@bp.route("/login/reset/confirm", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
@limiter.limit(PASSCODE_LIMIT, key_func=by_login_email, methods=["POST"])
def confirm_password_reset() -> Response:
    form = ResetConfirmForm()
    if form.validate_on_submit():
        try:
            password_reset.reset_password(
                form.email.data or "", form.code.data or "", form.new_password.data or ""
            )
        except InvalidInput as err:
            show_error(form, err, required=True)
        else:
            flash(RESET_DONE, "success")
            return redirect_to(url_for("auth.login"))
    status = 422 if form.errors else 200
    return render("auth/reset_confirm.html", form=form, status=status, sent=False)
