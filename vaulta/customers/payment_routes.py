"""A one-off payment a teller enters on a customer's behalf (``payments.request``), from
the customer's page: thin over vaulta/services/payments/staff_payments.py.

The form is the customer's payment form (vaulta/payments/forms.py) with the customer's
accounts to pay from; the payment goes straight to approval, its change request made by the
teller, whose browser is sent to that request's page.
"""

from __future__ import annotations

from flask import flash
from werkzeug.wrappers import Response

from vaulta.auth.access import acting_user, require_permission
from vaulta.customers import bp
from vaulta.extensions import limiter
from vaulta.forms import show_error
from vaulta.payments.forms import PaymentForm
from vaulta.security.limits import PAYMENT_LIMIT, by_user
from vaulta.services.banking import customer_queries
from vaulta.services.errors import AccountNotAvailable, InvalidInput
from vaulta.services.payments import payment_queries, staff_payments
from vaulta.web import awaiting_approval, redirect_to, render, request_url


@bp.route("/<int:customer_id>/payments/new", methods=["GET", "POST"])
@require_permission("payments.request")
@limiter.limit(PAYMENT_LIMIT, key_func=by_user, methods=["POST"])
def new_payment(customer_id: int) -> Response:
    customer = customer_queries.get_customer(customer_id)  # 404 for no such customer
    form = PaymentForm(payment_queries.active_accounts(customer.id))
    status = 200
    if form.validate_on_submit():
        try:
            entered = staff_payments.enter_for_customer(
                actor=acting_user(),
                customer_id=customer.id,
                order=form.payment_order(),
                idempotency_key=form.idempotency_key.data or "",
            )
        except InvalidInput as err:
            show_error(form, err)
        except AccountNotAvailable as err:  # the customer is suspended: above the form
            show_error(form, err)
            status = err.status
        else:
            made = entered.request
            flash(
                awaiting_approval(made, duplicate=entered.duplicate),
                "info" if entered.duplicate else "success",
            )
            return redirect_to(request_url(made.id))
    if status == 200 and (form.errors or form.form_errors):
        status = 422
    return render(
        "customers/payment.html",
        "customers/_payment_form.html",
        form=form,
        customer=customer,
        status=status,
    )
