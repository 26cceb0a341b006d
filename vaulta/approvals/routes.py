"""Views of the approvals blueprint: the queue, inline and bulk decisions, the nav count."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import flash, request, url_for
from werkzeug.wrappers import Response

from vaulta.approvals import bp
from vaulta.approvals.forms import BulkForm, DecisionForm, QueueFilters
from vaulta.auth.access import acting_user, require_permission
from vaulta.extensions import limiter
from vaulta.forms import show_error
from vaulta.models import Payment, User, utcnow
from vaulta.security.limits import PASSCODE_LIMIT, by_user
from vaulta.services.errors import DomainError, InvalidInput
from vaulta.services.payments import (
    approval_queue,
    approvals,
    bulk_decisions,
    payment_queries,
)
from vaulta.services.payments.approval_queue import QueueFilter
from vaulta.web import redirect_to, render, wants_partial

CHANGED = {"HX-Trigger": "payments-changed"}
BADGE_CAP = 100  # the nav badge shows "99+" from here on


@bp.app_template_filter("age")
def age(created: datetime, now: datetime | None = None) -> str:
    """How long ago ``created`` was, roughly; ``now`` read once per page saves a clock read
    per row."""
    minutes = int(((now or utcnow()) - created).total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 0)} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


def _actor() -> User:
    return acting_user()


@bp.route("/")
@require_permission("payments.read")
def index() -> Response:
    filters = QueueFilters(request.args)
    rows: list[Any] = []
    next_after: int | None = None
    status = 200
    try:
        rows, next_after = approval_queue.pending_page(
            QueueFilter(**{f.name: f.data or "" for f in filters})
        )
    except InvalidInput as err:
        show_error(filters, err, field=err.field or "min_amount", replace=True)
        status = 422
    return render(
        "approvals/index.html",
        "approvals/_queue.html",
        filters=filters,
        payments=rows,
        pages=_pages(filters, next_after),
        step_up=request.args.get("step_up", type=int),
        rejecting=request.args.get("reject", type=int),  # the row whose reason form is open
        decision=None,  # the rows' decision inputs start empty (no form object per page)
        results=None,
        status=status,
    )


def _pages(filters: QueueFilters, next_after: int | None) -> dict[str, str | None]:
    """Links to the first page (when not on it) and the next one (when there is one)."""
    kept = {f.name: f.data for f in filters if f.data and f.name != "after"}
    return {
        "first": url_for("approvals.index", **kept) if filters.after.data else None,
        "next": url_for("approvals.index", **kept, after=next_after) if next_after else None,
    }


@bp.route("/count")
@require_permission("payments.read")
def count() -> Response:
    """The nav badge: the number waiting, or "99+" (counting stops at BADGE_CAP)."""
    n = approval_queue.pending_count(at_most=BADGE_CAP)
    return render("approvals/_count.html", n=n, more=n >= BADGE_CAP, shown_max=BADGE_CAP - 1)


def _row(
    payment: Payment,
    form: DecisionForm,
    *,
    status: int = 200,
    step_up: bool = False,
    rejecting: bool = False,
    **flags: object,
) -> Response:
    """One row of the queue after a decision (or a refusal), from the same template as the page."""
    return render(
        "approvals/_rows.html",
        payments=[approval_queue.row_of(payment)],
        payment=payment,
        decision=form,
        step_up=payment.id if step_up else None,
        rejecting=payment.id if rejecting else None,
        status=status,
        **flags,
    )


@bp.route("/<int:payment_id>/reject", methods=["GET"])
@require_permission("requests.decide")
def reject_form(payment_id: int) -> Response:
    """The row with its reason form open (htmx swaps it in); without htmx, the queue with it."""
    if not wants_partial():
        return redirect_to(url_for("approvals.index", reject=payment_id))
    return _row(payment_queries.get(payment_id), DecisionForm(formdata=None), rejecting=True)


def _no_step_up_code() -> bool:
    """Only approvals that carry a step-up passcode count against the passcode limit."""
    return not request.form.get("code")


@bp.route("/<int:payment_id>/approve", methods=["POST"])
@require_permission("requests.decide")
@limiter.limit(PASSCODE_LIMIT, key_func=by_user, exempt_when=_no_step_up_code)
def approve(payment_id: int) -> Response:
    form = DecisionForm()
    if not form.validate():
        return _refused(payment_id, form, InvalidInput(form.code.errors[0], field="code"))
    try:
        decision = approvals.approve(payment_id, actor=_actor(), otp_code=form.code.data or None)
    except approvals.StepUpRequired as err:
        if wants_partial():
            return _row(payment_queries.get(payment_id), form, step_up=True, note=err.message)
        flash(err.message, "info")
        return redirect_to(url_for("approvals.index", step_up=payment_id))
    except InvalidInput as err:
        return _refused(payment_id, form, err)
    except DomainError as err:
        return _plain_error(err)
    message = f"Payment #{payment_id} is {decision.status.replace('_', ' ')}."
    if decision.levels_approved is not None:
        message = (
            f"Payment #{payment_id}: approval {decision.levels_approved} of "
            f"{decision.levels_required} recorded; another approver decides the next."
        )
    if decision.failure_reason:
        message += f" {decision.failure_reason}"
    return _decided(payment_id, message, ok=decision.status != "failed")


@bp.route("/<int:payment_id>/reject", methods=["POST"])
@require_permission("requests.decide")
def reject(payment_id: int) -> Response:
    form = DecisionForm()
    form.validate()
    try:
        payment = approvals.reject(payment_id, actor=_actor(), reason=form.reason.data or "")
    except InvalidInput as err:
        return _refused(payment_id, form, err)
    except DomainError as err:
        return _plain_error(err)
    return _decided(payment.id, f"Payment #{payment.id} is rejected.", ok=True)


def _decided(payment_id: int, message: str, *, ok: bool) -> Response:
    if wants_partial():
        response = _row(payment_queries.get(payment_id), DecisionForm(formdata=None))
        response.headers.update(CHANGED)
        return response
    flash(message, "success" if ok else "error")
    return redirect_to(url_for("approvals.index"))


def _refused(payment_id: int, form: DecisionForm, err: DomainError) -> Response:
    """A wrong code or a missing reason: the row again with the error on its field."""
    if not wants_partial():
        flash(err.message, "error")
        code = err.field == "code"
        return redirect_to(
            url_for(
                "approvals.index",
                step_up=payment_id if code else None,
                reject=None if code else payment_id,
            )
        )
    show_error(form, err, field=err.field or "reason", replace=True)
    payment = payment_queries.get(payment_id)
    code = err.field == "code"
    return _row(payment, form, status=422, step_up=code, rejecting=not code)


def _plain_error(err: DomainError) -> Response:
    """Four eyes, already decided …: htmx shows it in the message area, plain posts flash it."""
    if wants_partial():
        raise err
    flash(err.message, "error")
    return redirect_to(url_for("approvals.index"))


@bp.route("/bulk", methods=["POST"])
@require_permission("requests.decide")
def bulk() -> Response:
    form = BulkForm()
    form.validate()
    ids = [int(v) for v in request.form.getlist("payment_ids") if v.isdigit()]
    if not ids:
        raise InvalidInput("Select at least one payment.", field="payment_ids")
    results = bulk_decisions.decide_many(
        ids, actor=_actor(), action=form.action.data or "", reason=form.reason.data or ""
    )
    rows, next_after = approval_queue.pending_page()
    filters = QueueFilters()
    response = render(
        "approvals/index.html",
        "approvals/_queue.html",
        filters=filters,
        payments=rows,
        pages=_pages(filters, next_after),
        step_up=None,
        decision=DecisionForm(formdata=None),
        results=results,
    )
    response.headers.update(CHANGED)
    return response
