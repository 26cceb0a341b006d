"""Staff ask for a customer's new daily outgoing limit: a change request
(``customer.daily_limit``, vaulta/services/changes/limit_actions.py); the limit changes only
once another person approves it."""

from __future__ import annotations

from flask import flash, url_for
from werkzeug.wrappers import Response

from vaulta.auth.access import acting_user, require_permission
from vaulta.customers import bp
from vaulta.customers.forms import DailyLimitForm
from vaulta.services.banking import customer_queries
from vaulta.services.changes import change_requests
from vaulta.services.errors import DomainError, NotFound
from vaulta.web import awaiting_approval, redirect_to, refusal


@bp.route("/<int:customer_id>/daily-limit", methods=["POST"])
@require_permission("customers.manage")
def daily_limit(customer_id: int) -> Response:
    customer = customer_queries.get_customer(customer_id)
    form = DailyLimitForm(prefix="daily")
    if form.validate_on_submit():
        try:
            made = change_requests.submit(
                "customer.daily_limit",
                {"customer_id": customer.id, "daily_outgoing_limit_minor": form.limit_minor},
                actor=acting_user(),
            )
            flash(awaiting_approval(made), "success")
        except NotFound:
            raise
        except DomainError as err:
            flash(refusal(err), "error")
    else:
        flash(" ".join(form.limit.errors) or "Reload the page and try again.", "error")
    return redirect_to(url_for(".detail", customer_id=customer.id))
