"""Views of the payments blueprint: customers request, confirm, follow and cancel payments."""

from __future__ import annotations

from flask import flash, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from vaulta.auth.access import acting_user, customer_required
from vaulta.extensions import limiter
from vaulta.forms import show_error
from vaulta.models import Account, User
from vaulta.payments import bp
from vaulta.payments.forms import LIVE_FIELDS, ButtonForm, ConfirmForm, PaymentForm
from vaulta.security.limits import ACCOUNT_LOOKUP_LIMIT, PASSCODE_LIMIT, PAYMENT_LIMIT, by_user
from vaulta.services.errors import InvalidInput
from vaulta.services.payments import (
    iban,
    payment_changes,
    payment_fields,
    payment_queries,
    payment_requests,
)
from vaulta.web import redirect_to, render

bp.add_app_template_filter(iban.display, "iban")


def _user() -> User:
    return acting_user()


@bp.route("/")
@customer_required
def index() -> Response:
    rows = payment_queries.list_for_customer(current_user.customer_id)
    return render("payments/index.html", "payments/_table.html", payments=rows)


@bp.route("/new", methods=["GET", "POST"])
@customer_required
@limiter.limit(PAYMENT_LIMIT, key_func=by_user, methods=["POST"])
def new() -> Response:
    form = PaymentForm(payment_queries.active_accounts(current_user.customer_id))
    if form.validate_on_submit():
        try:
            payment = payment_requests.request_payment(actor=_user(), **form.service_fields())
        except InvalidInput as err:
            show_error(form, err)
        else:
            flash("We mailed you a code: enter it to confirm the payment.", "info")
            return redirect_to(url_for("payments.confirm", payment_id=payment.id))
    status = 422 if form.errors or form.form_errors else 200
    return render("payments/new.html", "payments/_form.html", form=form, status=status)


@bp.route("/validate/<any(" + ", ".join(LIVE_FIELDS) + "):name>", methods=["POST"])
@customer_required
def validate(name: str) -> Response:
    """One field checked while typing (htmx): its partial, with the error if there is one."""
    form = PaymentForm(
        payment_queries.active_accounts(current_user.customer_id), meta={"csrf": False}
    )
    source: Account | None = None
    try:
        source = payment_fields.own_account(current_user.customer_id, form.from_account.data or "")
    except InvalidInput as err:
        if name == "from_account":
            show_error(form, err)
    value = (getattr(form, name).data or "").strip()
    try:
        if name == "to_account" and value:
            _look_up_account(value, source)
        elif name == "beneficiary_iban" and value:
            iban.validate(value)
        elif name == "beneficiary_name" and value:
            payment_fields.clean_text(
                value,
                field=name,
                label="the beneficiary's name",
                maximum=payment_fields.NAME_MAX,
            )
        elif name == "beneficiary_bic" and value:
            iban.validate_bic(value)
        elif name == "amount" and value and source is not None:
            payment_fields.payment_amount(value, source.currency)
    except InvalidInput as err:
        show_error(form, err)
    return render("payments/_field.html", field=getattr(form, name))


@limiter.shared_limit(ACCOUNT_LOOKUP_LIMIT, scope="account-lookup", key_func=by_user)
def _look_up_account(number: str, source: Account | None) -> None:
    """Whether ``source`` may pay into the VAULTA account ``number``; the answer says whether
    the number exists, so each look-up counts (RATELIMIT_ACCOUNT_LOOKUP per user)."""
    payment_fields.beneficiary_account(number, source)


@bp.route("/<int:payment_id>")
@customer_required
def detail(payment_id: int) -> Response:
    payment = payment_queries.get_for_customer(payment_id, _user())
    approvals = payment_changes.approvals_of(payment)
    return render("payments/detail.html", payment=payment, button=ButtonForm(), approvals=approvals)


@bp.route("/<int:payment_id>/confirm", methods=["GET", "POST"])
@customer_required
@limiter.limit(PASSCODE_LIMIT, key_func=by_user, methods=["POST"])
def confirm(payment_id: int) -> Response:
    payment = payment_queries.get_for_customer(payment_id, _user())
    if payment.status != "awaiting_confirmation":
        return redirect_to(url_for("payments.detail", payment_id=payment.id))
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            payment_requests.confirm(payment.id, actor=_user(), code=form.code.data or "")
        except InvalidInput as err:
            show_error(form, err)
        else:
            flash(f"Payment #{payment.id} is confirmed and waits for approval.", "success")
            return redirect_to(url_for("payments.detail", payment_id=payment.id))
    status = 422 if form.errors or form.form_errors else 200
    return render(
        "payments/confirm.html", payment=payment, form=form, button=ButtonForm(), status=status
    )


@bp.route("/<int:payment_id>/resend", methods=["POST"])
@customer_required
@limiter.limit(PASSCODE_LIMIT, key_func=by_user)
def resend(payment_id: int) -> Response:
    payment_requests.resend_code(payment_id, actor=_user())
    flash("We mailed you a new code; the previous one no longer works.", "info")
    return redirect_to(url_for("payments.confirm", payment_id=payment_id))


@bp.route("/<int:payment_id>/cancel", methods=["POST"])
@customer_required
def cancel(payment_id: int) -> Response:
    payment_requests.cancel(payment_id, actor=_user())
    flash(f"Payment #{payment_id} is cancelled.", "success")
    return redirect_to(url_for("payments.detail", payment_id=payment_id))
