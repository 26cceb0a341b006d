"""A customer's own payment files (``own.payments.request``), under /payments/files.

- ``index``: the files the customer's logins uploaded (each request's status and, once
  executed, how many lines were paid and failed) and an upload link per active account;
- ``new``/``preview``/``submit``: the staff's steps (vaulta/payfiles/flow.py) for one of
  the customer's own accounts (another customer's account number is 404); the request's
  maker is the customer, so staff decide it in the inbox like any batch;
- ``batch``: every line of one of their files and what became of it (another's is 404).
"""

from __future__ import annotations

from flask import url_for
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from vaulta.auth.access import customer_required
from vaulta.extensions import limiter
from vaulta.models import Account, ChangeRequest
from vaulta.money import format_amount
from vaulta.payfiles import customer_bp as bp
from vaulta.payfiles import flow
from vaulta.payfiles.forms import UploadForm
from vaulta.security.limits import PAYMENT_LIMIT, by_user
from vaulta.services.banking import account_queries
from vaulta.services.errors import DomainError
from vaulta.services.payments import batch_queries, payment_queries
from vaulta.web import render


def _account(number: str) -> Account:
    return account_queries.get_account_for_customer(number, current_user.customer_id)


def _urls(number: str) -> flow.FileUrls:
    return flow.FileUrls(
        new=url_for("customer_payfiles.new", number=number),
        preview=url_for("customer_payfiles.preview", number=number),
        submit=url_for("customer_payfiles.submit", number=number),
    )


def _made(made: ChangeRequest) -> tuple[Markup, str]:
    url = url_for("customer_payfiles.batch", batch_id=made.id)
    amount = format_amount(made.amount_minor or 0, made.currency or "")
    state = "awaits approval by the bank" if made.is_pending else f"is {made.status}"
    message = Markup('<a href="{}">Payment file #{}</a> for {} {}. Nothing is paid before.')
    return message.format(url, int(made.id), amount, state), url


def _refused(err: DomainError) -> str:
    if getattr(err, "first_id", None) is not None:
        return "This file is already awaiting approval for this account."
    return err.message


WORDING = flow.Wording(made=_made, refused=_refused)


@bp.route("")
@customer_required
def index() -> Response:
    customer_id = current_user.customer_id
    return render(
        "payfiles/customer_index.html",
        uploads=batch_queries.uploads_of_customer(customer_id),
        accounts=payment_queries.active_accounts(customer_id),
    )


@bp.route("/accounts/<number>")
@customer_required
def new(number: str) -> Response:
    return flow.upload_page(UploadForm(), _account(number), _urls(number), 200)


@bp.route("/accounts/<number>/preview", methods=["POST"])
@customer_required
@limiter.limit(PAYMENT_LIMIT, key_func=by_user)
def preview(number: str) -> Response:
    return flow.preview(_account(number), _urls(number))


@bp.route("/accounts/<number>/submit", methods=["POST"])
@customer_required
@limiter.limit(PAYMENT_LIMIT, key_func=by_user)
def submit(number: str) -> Response:
    return flow.submit(_account(number), _urls(number), WORDING)


@bp.route("/<int:batch_id>")
@customer_required
def batch(batch_id: int) -> Response:
    found = batch_queries.batch_for_customer(batch_id, current_user.customer_id)
    return render("payfiles/batch.html", batch=found, staff=False)
