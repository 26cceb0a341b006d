"""The customer's currency conversion on their account page (htmx, no inline scripts).

``POST /accounts/<number>/conversion/quote`` prices the form (the quote partial, live while
typing); ``POST /accounts/<number>/conversion`` confirms a quote: a ``ledger.conversion``
change request (vaulta/services/changes/conversion_action.py) that executes at once under
the seeded policy. Another customer's account is a 404.
"""

from __future__ import annotations

from typing import Any

from flask import flash, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from vaulta.accounts import bp
from vaulta.accounts.conversion_forms import ConfirmConversionForm, ConversionForm
from vaulta.auth.access import acting_user, customer_required
from vaulta.models import Account
from vaulta.models.account import ACCOUNT_ACTIVE
from vaulta.money import format_amount
from vaulta.services.banking import account_queries
from vaulta.services.changes import change_requests
from vaulta.services.changes.conversion_action import CONVERSION
from vaulta.services.errors import DomainError, NotFound
from vaulta.services.ledger.fx import quotes
from vaulta.web import awaiting_approval, redirect_to, render

QUOTE_PARTIAL = "accounts/_conversion_quote.html"


def conversion_targets(account: Account) -> list[Account]:
    """The customer's other active accounts in another currency (empty: no form)."""
    if account.status != ACCOUNT_ACTIVE or account.customer_id is None:
        return []
    return [
        other
        for other in account_queries.accounts_of_customer(account.customer_id)
        if other.currency != account.currency and other.status == ACCOUNT_ACTIVE
    ]


def conversion_context(account: Account) -> dict[str, Any]:
    """What the account page needs for its conversion form (nothing without a target)."""
    targets = conversion_targets(account)
    if not targets:
        return {"conversion_form": None}
    return {
        "conversion_form": ConversionForm(account, targets, formdata=None),
        "quote": None,
        "quote_error": None,
    }


def _own(number: str) -> Account:
    return account_queries.get_account_for_customer(number, current_user.customer_id)


@bp.route("/accounts/<number>/conversion/quote", methods=["POST"])
@customer_required
def conversion_quote(number: str) -> Response:
    account = _own(number)
    form = ConversionForm(account, conversion_targets(account))
    quote = error = None
    status = 200
    amount = form.amount_minor() if form.validate_on_submit() else None
    if amount is not None:
        try:
            target = _own(form.to_account.data or "")
            quote = quotes.request_quote(
                acting_user(),
                from_account_id=account.id,
                to_account_id=target.id,
                amount_minor=amount,
            )
        except DomainError as err:
            error, status = err.message, err.status
    else:
        status = 422
        error = next((e for f in form for e in f.errors), "Correct the form.")
    return render(
        QUOTE_PARTIAL,
        status=status,
        account=account,
        quote=quote,
        quote_error=error,
        to_number=form.to_account.data,
        confirm_form=ConfirmConversionForm(formdata=None, quote_id=quote.id if quote else ""),
    )


@bp.route("/accounts/<number>/conversion", methods=["POST"])
@customer_required
def convert(number: str) -> Response:
    account = _own(number)
    form = ConfirmConversionForm()
    if not form.validate_on_submit():
        return render(
            QUOTE_PARTIAL,
            status=422,
            account=account,
            quote=None,
            quote_error="Ask for a new quote.",
        )
    try:
        quote = quotes.get_quote(acting_user(), form.quote_id.data)
        if quote.from_account_id != account.id:
            raise NotFound("No such quote.")
        made = change_requests.submit(CONVERSION, {"quote_id": quote.id}, actor=acting_user())
    except DomainError as err:
        return render(
            QUOTE_PARTIAL, status=err.status, account=account, quote=None, quote_error=err.message
        )
    if made.failure_reason is not None:
        flash(f"The conversion failed: {made.failure_reason}", "error")
    elif made.is_pending:
        flash(awaiting_approval(made), "info")
    else:
        paid = format_amount(quote.from_amount_minor, quote.from_currency)
        received = format_amount(quote.to_amount_minor, quote.to_currency)
        flash(f"Converted {paid} into {received}.", "success")
    return redirect_to(url_for("accounts.statement", number=account.number))
