"""Views of the inbox blueprint: the checker inbox, one request's page, the maker's own
requests, decisions (htmx rows or plain posts) and the navigation's count.

Who may use what (docs/security.md "Four eyes"):

- the inbox, its count and every decision: ``requests.decide`` (the service checks the rest:
  never one's own request, once per person, the roles the request's level allows, step-up);
- "My requests" and cancelling: staff who make requests (any action's maker permission,
  checked in the view; the service lets only the maker cancel);
- a request's page: its maker, deciders (``requests.decide``) and the bank's readers
  (``customers.read``, ``ledger.read`` or ``audit.read``); anyone else 403.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, request, url_for
from werkzeug.wrappers import Response

from vaulta.auth.access import acting_user, require_permission
from vaulta.extensions import limiter
from vaulta.forms import show_error
from vaulta.inbox import bp, rows
from vaulta.inbox.forms import AGES, DecisionForm, InboxFilters
from vaulta.inbox.outcomes import outcome
from vaulta.models import User
from vaulta.money import AmountError, parse_amount
from vaulta.security.limits import PASSCODE_LIMIT, by_user
from vaulta.services.banking import customer_queries
from vaulta.services.changes import bulk as bulk_decisions
from vaulta.services.changes import change_queries, change_requests
from vaulta.services.errors import DomainError, InvalidInput
from vaulta.services.identity import permissions, users
from vaulta.web import redirect_to, render, wants_partial

DECIDE = "requests.decide"
STAFF = "staff.dashboard"  # every staff role: the view checks the object
VIEWERS = (DECIDE, "customers.read", "ledger.read", "audit.read")
CHANGED = {"HX-Trigger": "requests-changed"}
BADGE_CAP = 100  # the nav badge shows "99+" from here on
BULK_MAX = 100  # requests decided per bulk post
PAGE = change_queries.LIMIT


def _actor() -> User:
    return acting_user()


def is_maker(user: User) -> bool:
    return bool(permissions.permissions_of(user) & rows.maker_permissions())


# --- the inbox -------------------------------------------------------------------------


def _amount(form: InboxFilters, name: str, currency: str | None) -> int | None:
    text = (form[name].data or "").strip()
    if not text:
        return None
    if not currency:
        raise InvalidInput("Choose a currency to filter by amount.", field="currency")
    try:
        return parse_amount(text, currency)
    except AmountError as err:
        raise InvalidInput(str(err), field=name) from None


def _customer_id(text: str) -> int | None:
    if not text:
        return None
    found = customer_queries.search_customers(text, limit=2).rows
    if not found:
        raise InvalidInput("No customer matches this.", field="customer")
    if len(found) > 1:
        raise InvalidInput("Several customers match: type the customer number.", field="customer")
    return int(found[0].id)


def _maker_id(text: str) -> int | None:
    if not text:
        return None
    user = users.find_by_email(text)
    if user is None or not user.is_staff:
        raise InvalidInput("No staff login has this email.", field="maker")
    return user.id


def filters_of(form: InboxFilters) -> change_queries.InboxFilters:
    """The service's filters from the form's (InvalidInput naming the field otherwise)."""
    currency = form.currency.data or None
    age = AGES.get(form.age.data or "")
    return change_queries.InboxFilters(
        action=form.action.data or None,
        min_amount_minor=_amount(form, "min_amount", currency),
        max_amount_minor=_amount(form, "max_amount", currency),
        currency=currency,
        customer_id=_customer_id((form.customer.data or "").strip()),
        maker_id=_maker_id((form.maker.data or "").strip()),
        older_than_hours=int(age[1].total_seconds() // 3600) if age else None,
    )


def _page(form: InboxFilters, *, results: Any = None, status: int = 200) -> Response:
    items: list[rows.Item] = []
    after = request.args.get("after", type=int)
    if status == 200 and form.validate():
        try:
            found = change_queries.decidable_for(_actor(), filters=filters_of(form), after_id=after)
            items = rows.items_of(found, decidable=True)
        except InvalidInput as err:
            show_error(form, err, replace=True)
            status = 422
    elif status == 200:
        status = 422
    args = form.query_args()
    return render(
        "inbox/index.html",
        "inbox/_queue.html",
        status=status,
        form=form,
        requests=items,
        results=results,
        next_url=url_for(".index", **args, after=items[-1].id) if len(items) >= PAGE else None,
        first_url=url_for(".index", **args) if after else None,
        rejecting=request.args.get("reject", type=int),
        decision=None,
        is_maker=is_maker(_actor()),
    )


@bp.route("/inbox")
@require_permission(DECIDE)
def index() -> Response:
    return _page(InboxFilters(formdata=request.args, actions=rows.action_labels()))


@bp.route("/inbox/count")
@require_permission(DECIDE)
def count() -> Response:
    """The nav badge: how many the signed-in user may decide now ("99+" from BADGE_CAP)."""
    n = change_queries.decidable_count(_actor())
    return render("inbox/_count.html", n=n, more=n >= BADGE_CAP, shown_max=BADGE_CAP - 1)


@bp.route("/inbox/bulk", methods=["POST"])
@require_permission(DECIDE)
def bulk() -> Response:
    """Approve the selected rows where their policies allow it; the inbox with a result
    per request."""
    ids = [int(v) for v in request.form.getlist("request_ids") if v.isdigit() and len(v) < 10]
    if not ids:
        raise InvalidInput("Select at least one request.", field="request_ids")
    results = bulk_decisions.decide_many(ids[:BULK_MAX], actor=_actor(), action="approve")
    form = InboxFilters(formdata=None, actions=rows.action_labels())
    response = _page(form, results=results)
    response.headers.update(CHANGED)
    return response


# --- one decision ----------------------------------------------------------------------


def _detail_url(request_id: int) -> str:
    return url_for(".detail", request_id=request_id)


def _row(
    request_id: int,
    *,
    status: int = 200,
    note: str | None = None,
    form: DecisionForm | None = None,
    rejecting: bool = False,
    code_sent: bool = False,
) -> Response:
    """One inbox row after a decision or a refusal (htmx swaps it in place)."""
    item = rows.item_of(change_requests.get(request_id), _actor())
    return render(
        "inbox/_rows.html",
        status=status,
        requests=[item],
        note=note,
        note_id=item.id,
        decision=form,
        rejecting=item.id if rejecting else None,
        code_sent=item.id if code_sent else None,
    )


def _refused(request_id: int, form: DecisionForm, err: DomainError) -> Response:
    """A missing or wrong code, a missing reason: the row again, the error on its field."""
    code = err.field == "code"
    if not wants_partial():
        flash(err.message, "error")
        return redirect_to(_detail_url(request_id))
    show_error(form, err, field="code" if code else "reason", replace=True)
    return _row(request_id, status=422, form=form, rejecting=not code, note=err.message)


def _decided(request_id: int, message: str, *, ok: bool) -> Response:
    if wants_partial():
        response = _row(request_id, note=message)
        response.headers.update(CHANGED)
        return response
    flash(f"Request #{request_id}: {message}", "success" if ok else "error")
    return redirect_to(_detail_url(request_id))


def _no_step_up_code() -> bool:
    """Only approvals that carry a one-time code count against the passcode limit."""
    return not request.form.get("code")


@bp.route("/requests/<int:request_id>/approve", methods=["POST"])
@require_permission(DECIDE)
@limiter.limit(PASSCODE_LIMIT, key_func=by_user, exempt_when=_no_step_up_code)
def approve(request_id: int) -> Response:
    form = DecisionForm()
    if not form.validate():
        field, errors = next(iter(form.errors.items()))
        return _refused(request_id, form, InvalidInput(str(errors[0]), field=str(field)))
    try:
        decided = change_requests.approve(
            request_id, actor=_actor(), step_up_code=form.code.data or None, send_code=False
        )
    except change_requests.StepUpRequired:
        message = "This level needs a one-time code: press “Mail me a code”, then enter it."
        return _refused(request_id, form, InvalidInput(message, field="code"))
    except InvalidInput as err:
        return _refused(request_id, form, err)
    return _decided(request_id, outcome(decided), ok=decided.status != "failed")


@bp.route("/requests/<int:request_id>/code", methods=["POST"])
@require_permission(DECIDE)
@limiter.limit(PASSCODE_LIMIT, key_func=by_user)
def send_code(request_id: int) -> Response:
    """Mail the approver a one-time code for the request's next level."""
    change_requests.send_step_up_code(request_id, actor=_actor())
    note = "We mailed you a one-time code: enter it and approve."
    if wants_partial():
        return _row(request_id, note=note, code_sent=True)
    flash(note, "info")
    return redirect_to(_detail_url(request_id))


@bp.route("/requests/<int:request_id>/reject", methods=["GET"])
@require_permission(DECIDE)
def reject_form(request_id: int) -> Response:
    """The row with its reason form open (htmx); without htmx, the inbox with it open."""
    if not wants_partial():
        return redirect_to(url_for(".index", reject=request_id))
    return _row(request_id, form=DecisionForm(formdata=None), rejecting=True)


@bp.route("/requests/<int:request_id>/reject", methods=["POST"])
@require_permission(DECIDE)
def reject(request_id: int) -> Response:
    form = DecisionForm()
    form.validate()
    try:
        change_requests.reject(request_id, actor=_actor(), reason=form.reason.data or "")
    except InvalidInput as err:
        return _refused(request_id, form, err)
    return _decided(request_id, "Rejected.", ok=True)


# --- one request, the maker's own ------------------------------------------------------


@bp.route("/requests/<int:request_id>")
@require_permission(STAFF)
def detail(request_id: int) -> Response:
    actor = _actor()
    found = change_queries.request_detail(request_id)
    req = found.request
    mine = req.maker_id == actor.id
    if not mine and not any(permissions.has_permission(actor, p) for p in VIEWERS):
        abort(403)
    return render(
        "inbox/detail.html",
        cr=rows.item_of(req, actor),
        req=req,
        decisions=found.decisions,
        policy_name=rows.policy_name(req),
        cancellable=mine and req.is_pending,
        is_maker=is_maker(actor),
        requests=None,
        decision=None,
        rejecting=None,
    )


def _mine(notice: str | None = None) -> Response:
    actor = _actor()
    if not is_maker(actor):
        abort(403)
    found = rows.items_of(change_queries.made_by(actor), decidable=False)
    return render("inbox/mine.html", "inbox/_mine.html", requests=found, notice=notice)


@bp.route("/inbox/mine")
@require_permission(STAFF)
def mine() -> Response:
    return _mine()


@bp.route("/requests/<int:request_id>/cancel", methods=["POST"])
@require_permission(STAFF)
def cancel(request_id: int) -> Response:
    """The maker withdraws a pending request (the service refuses anyone else: 403)."""
    change_requests.cancel(request_id, actor=_actor())
    message = f"Request #{request_id} is cancelled."
    if wants_partial():
        response = _mine(notice=message)
        response.headers.update(CHANGED)
        return response
    flash(message, "success")
    return redirect_to(url_for(".mine"))
