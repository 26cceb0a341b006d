"""Staff pages for customers: list with live search, create, details, edit, status, accounts.

Views validate the form, call one service, then render or redirect. Creating, editing,
suspending, reactivating and closing a customer and opening an account are change requests
(vaulta/services/changes/banking_actions.py): the view makes the request and says it awaits
approval; nothing changes until another person approves it.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from vaulta.auth.access import acting_user, require_permission
from vaulta.customers import bp
from vaulta.customers.forms import CustomerForm, DailyLimitForm, OpenAccountForm
from vaulta.forms import show_error
from vaulta.models import Customer
from vaulta.services.banking import customer_queries
from vaulta.services.changes import change_requests, object_requests
from vaulta.services.errors import DomainError, NotFound
from vaulta.services.standing_orders import queries as standing_order_queries
from vaulta.web import awaiting_approval, redirect_to, refusal, render, wants_partial


def _cursor() -> tuple[str, int] | None:
    """The keyset cursor of the requested page (``after_name`` and ``after_id``)."""
    name = request.args.get("after_name")
    ident = request.args.get("after_id", type=int)
    if name is None or ident is None:
        return None
    return (name, ident)


def _show_error(form: FlaskForm, err: DomainError) -> int:
    """Put a domain error on its field (then 422) or above the form (then its own status)."""
    return 422 if show_error(form, err) else err.status


def _form_page(form: CustomerForm, customer: Customer | None, status: int | None) -> Response:
    if status is None:
        status = 422 if form.errors else 200
    return render(
        "customers/form.html", "customers/_form.html", form=form, customer=customer, status=status
    )


def _detail_url(customer_id: int) -> str:
    return url_for("customers.detail", customer_id=customer_id)


@bp.route("/")
@require_permission("customers.read")
def index() -> Response:
    q = request.args.get("q", "").strip()
    after = _cursor()
    results = customer_queries.search_customers(
        q, after=after, limit=current_app.config["PAGE_SIZE"]
    )
    return render(
        "customers/index.html", "customers/_table.html", q=q, after=after, results=results
    )


@bp.route("/new", methods=["GET", "POST"])
@require_permission("customers.manage")
def new() -> Response:
    form = CustomerForm()
    status = None
    if form.validate_on_submit():
        try:
            made = change_requests.submit("customer.create", _fields(form), actor=acting_user())
        except DomainError as err:
            status = _show_error(form, err)
        else:
            flash(awaiting_approval(made), "success")
            return redirect_to(url_for("customers.index"))
    return _form_page(form, None, status)


def _fields(form: CustomerForm) -> dict[str, Any]:
    return {
        "full_name": form.full_name.data or "",
        "email": form.email.data,
        "phone": form.phone.data,
        "address": form.address.data,
    }


@bp.route("/<int:customer_id>")
@require_permission("customers.read")
def detail(customer_id: int) -> Response:
    return render(
        "customers/detail.html",
        customer=customer_queries.customer_detail(customer_id),
        pending_requests=object_requests.pending_for_customer(customer_id),
        account_form=OpenAccountForm(formdata=None),
        standing_orders=standing_order_queries.of_customer(customer_id),
        daily_limit_form=DailyLimitForm(prefix="daily", formdata=None),
    )


@bp.route("/<int:customer_id>/edit", methods=["GET", "POST"])
@require_permission("customers.manage")
def edit(customer_id: int) -> Response:
    customer = customer_queries.get_customer(customer_id)
    form = CustomerForm(obj=customer)
    status = None
    if form.validate_on_submit():
        try:
            made = change_requests.submit(
                "customer.update",
                {"customer_id": customer_id, **_fields(form)},
                actor=acting_user(),
            )
        except DomainError as err:
            status = _show_error(form, err)
        else:
            flash(awaiting_approval(made), "success")
            return redirect_to(_detail_url(customer_id))
    return _form_page(form, customer, status)


def _change_status(customer_id: int, action: str) -> Response:
    """Ask for a status change; htmx gets the status partial, plain requests a redirect."""
    try:
        made = change_requests.submit(action, {"customer_id": customer_id}, actor=acting_user())
    except NotFound:
        raise
    except DomainError as err:
        if not wants_partial():
            flash(refusal(err), "error")
            return redirect_to(_detail_url(customer_id))
        return render(
            "customers/detail.html",
            "customers/_status.html",
            customer=customer_queries.customer_detail(customer_id),
            pending_requests=object_requests.pending_for_customer(customer_id),
            status_error=refusal(err),
            status=err.status,
        )
    done = awaiting_approval(made)
    if not wants_partial():
        flash(done, "success")
        return redirect_to(_detail_url(customer_id))
    return render(
        "customers/detail.html",
        "customers/_status.html",
        customer=customer_queries.customer_detail(customer_id),
        pending_requests=object_requests.pending_for_customer(customer_id),
        account_form=OpenAccountForm(formdata=None),
        status_notice=done,
    )


@bp.route("/<int:customer_id>/suspend", methods=["POST"])
@require_permission("customers.manage")
def suspend(customer_id: int) -> Response:
    return _change_status(customer_id, "customer.suspend")


@bp.route("/<int:customer_id>/reactivate", methods=["POST"])
@require_permission("customers.manage")
def reactivate(customer_id: int) -> Response:
    return _change_status(customer_id, "customer.reactivate")


@bp.route("/<int:customer_id>/close", methods=["POST"])
@require_permission("customers.manage")
def close(customer_id: int) -> Response:
    return _change_status(customer_id, "customer.close")


@bp.route("/<int:customer_id>/accounts", methods=["POST"])
@require_permission("accounts.manage")
def open_account(customer_id: int) -> Response:
    customer = customer_queries.get_customer(customer_id)
    form = OpenAccountForm()
    status = 422
    notice = None
    if form.validate_on_submit():
        try:
            made = change_requests.submit(
                "account.open",
                {"customer_id": customer.id, "currency": form.currency.data or ""},
                actor=acting_user(),
            )
        except DomainError as err:
            status = _show_error(form, err)
        else:
            notice = awaiting_approval(made)
            if not wants_partial():
                flash(notice, "success")
                return redirect_to(_detail_url(customer_id))
            form, status = OpenAccountForm(formdata=None), 200
    return render(
        "customers/detail.html",
        "customers/_accounts.html",
        customer=customer_queries.customer_detail(customer_id),
        account_form=form,
        accounts_notice=notice,
        status=status,
    )
