"""Staff ask for an account's new overdraft limit: a change request (``account.overdraft``,
vaulta/services/changes/limit_actions.py) that two approvers approve by the seeded policy;
the limit changes only then. Blocking and unblocking are status actions
(``routes.change_status``)."""

from __future__ import annotations

from flask import flash, url_for
from werkzeug.wrappers import Response

from vaulta.accounts import bp
from vaulta.accounts.forms import OverdraftForm
from vaulta.auth.access import acting_user, require_permission
from vaulta.services.banking import account_queries
from vaulta.services.changes import change_requests
from vaulta.services.errors import DomainError, NotFound
from vaulta.web import awaiting_approval, redirect_to, refusal


@bp.route("/admin/accounts/<int:account_id>/overdraft-limit", methods=["POST"])
@require_permission("accounts.manage")
def overdraft_limit(account_id: int) -> Response:
    account = account_queries.get_account(account_id)
    form = OverdraftForm(account.currency, prefix="overdraft")
    if form.validate_on_submit():
        try:
            made = change_requests.submit(
                "account.overdraft",
                {"account_id": account.id, "overdraft_limit_minor": form.limit_minor},
                actor=acting_user(),
            )
            flash(awaiting_approval(made), "success")
        except NotFound:
            raise
        except DomainError as err:
            flash(refusal(err), "error")
    else:
        flash(" ".join(form.limit.errors) or "Reload the page and try again.", "error")
    return redirect_to(url_for(".admin_detail", account_id=account.id))
