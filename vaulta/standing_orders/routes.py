"""Views of standing orders: thin over vaulta/services/standing_orders.

Customers (their own only; another's is 404): the list, the form, an order's page and its
pause/resume/cancel buttons. Staff: the form on a customer's behalf (``payments.request``),
an order's page (``payments.read``) and its buttons (``payments.request``); the customer's
page lists their orders.
"""

from __future__ import annotations

from flask import flash, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from vaulta.auth.access import acting_user, customer_required, require_permission
from vaulta.extensions import limiter
from vaulta.forms import show_error
from vaulta.payments.forms import ButtonForm
from vaulta.security.limits import PAYMENT_LIMIT, by_user
from vaulta.services import standing_orders
from vaulta.services.banking import customer_queries
from vaulta.services.errors import InvalidInput
from vaulta.services.payments import payment_queries
from vaulta.services.standing_orders import queries
from vaulta.standing_orders import bp
from vaulta.standing_orders.forms import StandingOrderForm
from vaulta.web import redirect_to, render

ACTIONS = "any(pause, resume, cancel)"
CHANGES = {
    "pause": standing_orders.pause,
    "resume": standing_orders.resume,
    "cancel": standing_orders.cancel,
}
DONE = {"pause": "paused", "resume": "resumed", "cancel": "cancelled"}


def _form_page(form: StandingOrderForm, action: str, customer: object | None) -> Response:
    status = 422 if form.errors or form.form_errors else 200
    return render(
        "standing_orders/new.html",
        "standing_orders/_form.html",
        form=form,
        action=action,
        customer=customer,
        status=status,
    )


def _create(form: StandingOrderForm, customer_id: int | None) -> int | None:
    try:
        made = standing_orders.create(
            actor=acting_user(),
            order=form.payment_order(),
            plan=form.plan(),
            customer_id=customer_id,
        )
    except InvalidInput as err:
        show_error(form, err)
        return None
    flash(f"Standing order #{made.id} is set up. Each payment awaits approval.", "success")
    return made.id


def _order_page(order_id: int, *, staff: bool) -> Response:
    order = queries.get_for(order_id, acting_user())
    return render(
        "standing_orders/detail.html",
        "standing_orders/_order.html",
        order=order,
        runs=queries.runs_of(order.id),
        from_number=queries.account_number(order.from_account_id),
        to_number=queries.account_number(order.to_account_id),
        staff=staff,
        button=ButtonForm(),
    )


# --- Customers ---


@bp.route("/payments/standing-orders")
@customer_required
def index() -> Response:
    orders = queries.of_customer(current_user.customer_id)
    return render(
        "standing_orders/index.html", "standing_orders/_table.html", orders=orders, staff=False
    )


@bp.route("/payments/standing-orders/new", methods=["GET", "POST"])
@customer_required
@limiter.limit(PAYMENT_LIMIT, key_func=by_user, methods=["POST"])
def new() -> Response:
    form = StandingOrderForm(payment_queries.active_accounts(current_user.customer_id))
    if form.validate_on_submit() and (made := _create(form, None)) is not None:
        return redirect_to(url_for("standing_orders.detail", order_id=made))
    return _form_page(form, url_for("standing_orders.new"), None)


@bp.route("/payments/standing-orders/<int:order_id>")
@customer_required
def detail(order_id: int) -> Response:
    return _order_page(order_id, staff=False)


@bp.route(f"/payments/standing-orders/<int:order_id>/<{ACTIONS}:action>", methods=["POST"])
@customer_required
def change(order_id: int, action: str) -> Response:
    return _change(order_id, action, staff=False)


def _change(order_id: int, action: str, *, staff: bool) -> Response:
    order = queries.get_for(order_id, acting_user())  # another customer's: 404 first
    if ButtonForm().validate_on_submit():
        CHANGES[action](order.id, actor=acting_user())
        flash(f"Standing order #{order.id} {DONE[action]}.", "success")
    return _order_page(order.id, staff=staff)


# --- Staff ---


@bp.route("/admin/customers/<int:customer_id>/standing-orders/new", methods=["GET", "POST"])
@require_permission("payments.request")
def staff_new(customer_id: int) -> Response:
    customer = customer_queries.get_customer(customer_id)
    form = StandingOrderForm(payment_queries.active_accounts(customer_id))
    if form.validate_on_submit() and (made := _create(form, customer_id)) is not None:
        return redirect_to(url_for("standing_orders.staff_detail", order_id=made))
    return _form_page(form, url_for("standing_orders.staff_new", customer_id=customer_id), customer)


@bp.route("/admin/standing-orders/<int:order_id>")
@require_permission("payments.read")
def staff_detail(order_id: int) -> Response:
    return _order_page(order_id, staff=True)


@bp.route(f"/admin/standing-orders/<int:order_id>/<{ACTIONS}:action>", methods=["POST"])
@require_permission("payments.request")
def staff_change(order_id: int, action: str) -> Response:
    return _change(order_id, action, staff=True)
