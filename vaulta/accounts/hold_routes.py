"""Staff place, capture and release holds from the account page: each is a change request
(``ledger.hold.place``, ``ledger.hold.capture``, ``ledger.hold.release``,
vaulta/services/changes/hold_actions.py), as the API's hold operations make, under the same
permissions. It executes at once when the policy in force lets it; otherwise the page says
it awaits approval, with a link to it.

A hold is reached through its account's URL: an unknown hold, or another account's, is a
404. A refused form is shown again with its errors on the fields (422, or the domain
error's status): htmx gets the holds panel (templates/accounts/_holds.html), a plain post
the whole page."""

from __future__ import annotations

from typing import Any

from flask import flash, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from vaulta.accounts import bp
from vaulta.accounts.hold_forms import (
    FIELD_OF,
    CaptureHoldForm,
    PlaceHoldForm,
    ReleaseHoldForm,
)
from vaulta.accounts.routes import ADMIN_PAGE, admin_context
from vaulta.auth.access import acting_user, require_permission
from vaulta.forms import show_error
from vaulta.models import Account, ChangeRequest
from vaulta.services.banking import account_queries
from vaulta.services.changes import change_requests, hold_actions
from vaulta.services.errors import DomainError, InsufficientFunds, NotFound
from vaulta.services.ledger import hold_queries
from vaulta.web import awaiting_approval, redirect_to, render, wants_partial

HOLDS_PARTIAL = "accounts/_holds.html"
ID_MAX = 2**31 - 1  # ids are INTEGER columns


def _account(account_id: int) -> Account:
    if not 0 < account_id <= ID_MAX:
        raise NotFound("No such account.")
    return account_queries.get_account(account_id)


def _hold_of(account: Account, hold_id: int) -> int:
    """The hold's id when it is this account's; otherwise (unknown, another's) 404."""
    if not 0 < hold_id <= ID_MAX or hold_queries.get(hold_id).account_id != account.id:
        raise NotFound("No such hold.")
    return hold_id


@bp.route("/admin/accounts/<int:account_id>/holds", methods=["POST"])
@require_permission("ledger.hold.place.request")
def place_hold(account_id: int) -> Response:
    account = _account(account_id)
    form = PlaceHoldForm(account.currency, prefix="hold")
    if not form.validate_on_submit():
        return _refused(account, {"hold_form": form}, 422)
    params = {
        "account_id": account.id,
        "amount_minor": form.amount_minor,
        "reason": (form.reason.data or "").strip(),
        "expires_at": form.expiry.isoformat(),
    }
    return _submit(account, hold_actions.PLACE, params, {"hold_form": form})


@bp.route("/admin/accounts/<int:account_id>/holds/<int:hold_id>/capture", methods=["POST"])
@require_permission("ledger.hold.capture.request")
def capture_hold(account_id: int, hold_id: int) -> Response:
    account = _account(account_id)
    hold_id = _hold_of(account, hold_id)
    form = CaptureHoldForm(account.currency, prefix="capture")
    forms = {"failed_capture": form, "failed_hold_id": hold_id}
    if not form.validate_on_submit():
        return _refused(account, forms, 422)
    params = {"hold_id": hold_id, "amount_minor": form.amount_minor}
    return _submit(account, hold_actions.CAPTURE, params, forms)


@bp.route("/admin/accounts/<int:account_id>/holds/<int:hold_id>/release", methods=["POST"])
@require_permission("ledger.hold.release.request")
def release_hold(account_id: int, hold_id: int) -> Response:
    account = _account(account_id)
    hold_id = _hold_of(account, hold_id)
    form = ReleaseHoldForm(prefix="release")
    forms = {"failed_release": form, "failed_hold_id": hold_id}
    if not form.validate_on_submit():
        form.form_errors.append("Reload the page and try again.")
        return _refused(account, forms, 422)
    return _submit(account, hold_actions.RELEASE, {"hold_id": hold_id}, forms)


def _submit(
    account: Account, action: str, params: dict[str, Any], forms: dict[str, Any]
) -> Response:
    """Make the change request; a duplicate of a pending one links to that one."""
    duplicate = False
    try:
        made = change_requests.submit(action, params, actor=acting_user())
    except change_requests.DuplicateRequest as err:
        made, duplicate = change_requests.get(err.first_id), True
    except NotFound:
        raise
    except DomainError as err:
        form: FlaskForm = next(f for f in forms.values() if isinstance(f, FlaskForm))
        field = "amount" if isinstance(err, InsufficientFunds) else err.field
        show_error(form, err, field=FIELD_OF.get(field or "", field))
        return _refused(account, forms, err.status)
    return _submitted(account, made, duplicate=duplicate)


def _submitted(account: Account, made: ChangeRequest, *, duplicate: bool) -> Response:
    """htmx: the holds panel, fresh, saying which request awaits approval (a link to it); a
    plain post, or one that executed at once (the balances changed), the page again."""
    if wants_partial() and made.is_pending:
        context = admin_context(account.id)
        return render(
            ADMIN_PAGE, HOLDS_PARTIAL, hold_submitted=made, duplicate=duplicate, **context
        )
    flash(awaiting_approval(made, duplicate=duplicate), "info" if duplicate else "success")
    return redirect_to(url_for(".admin_detail", account_id=account.id))


def _refused(account: Account, forms: dict[str, Any], status: int) -> Response:
    """The page (htmx: the holds panel) with the refused form and its errors."""
    context = admin_context(account.id)
    context.update(forms)
    return render(ADMIN_PAGE, HOLDS_PARTIAL, status=status, **context)
