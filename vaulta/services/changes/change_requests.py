"""The commands of change requests: submit, approve, reject, cancel, expire.

Each runs in one ``write_transaction`` and records audit events (with the policy version
that applied) and outbox events (``change_request.created`` / ``.decided``) in it.

Rules that never bend (docs/architecture.md "Change requests"):

- the maker never decides their own request; one person decides a request at most once;
- a decider holds ``requests.decide`` and a role the request allows at its next level,
  and confirms with a mailed one-time code at a step-up level;
- at each decision the request is checked against the policy now in force (a stricter
  outcome is recorded on it); the last approval rechecks and executes it in the same
  transaction, or marks it ``failed`` with the reason (committed, nothing executed);
- every transition is a conditional UPDATE … WHERE status = 'pending' (and the expected
  level), under the row's lock on PostgreSQL: two deciders at once, one wins, the other
  gets Conflict; execution happens once.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from vaulta import mail
from vaulta.models import ChangeDecision, ChangeRequest, User, utcnow
from vaulta.models.change_request import (
    CR_APPROVED,
    CR_CANCELLED,
    CR_PENDING,
    CR_REJECTED,
    DECISION_APPROVE,
    DECISION_REJECT,
)
from vaulta.money import format_amount
from vaulta.services import audit
from vaulta.services.changes import request_state as state
from vaulta.services.changes import requirements
from vaulta.services.changes.actions import DECIDERS
from vaulta.services.changes.request_state import (
    DuplicateRequest,
    StepUpRequired,
    expire_due,
    get,
)
from vaulta.services.changes.submission import pending_duplicate_id, submit
from vaulta.services.errors import Conflict, DomainError, Forbidden, InvalidInput
from vaulta.services.identity import otp, permissions
from vaulta.services.unit_of_work import session, write_transaction

DECIDE = requirements.DECIDE

__all__ = [
    "DECIDE",
    "DuplicateRequest",
    "StepUpRequired",
    "approve",
    "cancel",
    "expire_due",
    "get",
    "may_decide",
    "needs_step_up",
    "pending_duplicate_id",
    "reject",
    "roles_at",
    "send_step_up_code",
    "submit",
]


def needs_step_up(request: ChangeRequest, actor: User | None = None) -> bool:
    """True when approving ``request`` now (its next level) needs a one-time code, under
    the policy now in force. ``actor`` is accepted for callers that ask per person; the
    answer depends only on the level."""
    found = requirements.now_in_force(session(), request)
    return requirements.step_up_at_next_level(request, found)


def roles_at(request: ChangeRequest, level: int) -> list[str]:
    """The roles that may decide ``level`` (1-based) of ``request``, as stored."""
    return requirements.stored(request).roles_at(level)


def may_decide(request: ChangeRequest, actor: User) -> bool:
    """Whether ``actor`` could decide ``request``'s next level now (step-up aside)."""
    if request.status != CR_PENDING:
        return False
    try:
        found = requirements.now_in_force(session(), request)
        requirements.check_decider(session(), request, actor, found)
    except DomainError:
        return False
    return True


def _adopt_policy_now(s: Session, request: ChangeRequest, actor: User) -> None:
    """Check the request against the policy now in force; record a stricter outcome."""
    found = requirements.now_in_force(s, request)
    if not found.changed:
        return
    previous = requirements.stored(request)
    requirements.adopt(request, found)
    s.flush()
    state.record(
        s,
        request,
        actor,
        "policy_raised",
        previous_policy_id=previous.policy_id,
        previous_policy_version=previous.policy_version,
        previous_levels=previous.levels,
        previous_step_up_levels=previous.step_up_levels,
        step_up_levels=found.step_up_levels,
    )


def _step_up(
    request: ChangeRequest,
    found: requirements.Requirements,
    actor: User,
    code: str | None,
    send_code: bool,
) -> bool:
    """Verify the decider's one-time code when the next level needs one; True if used."""
    if not requirements.step_up_at_next_level(request, found):
        return False
    if not (code or "").strip():
        if send_code:
            _mail_code(actor, request)
        raise StepUpRequired(
            f"Level {request.next_level} of change request #{request.id} needs a one-time "
            "code: enter the code we mailed you."
        )
    otp.verify(actor, otp.CHANGE_APPROVE, str(request.id), code or "")
    return True


def _mail_code(actor: User, request: ChangeRequest) -> None:
    code = otp.issue(actor, otp.CHANGE_APPROVE, str(request.id))
    what = request.summary
    if request.amount_minor is not None and request.currency:
        what += f" ({format_amount(request.amount_minor, request.currency)})"
    mail.send(
        actor.email,
        f"VAULTA approval code for change request #{request.id}",
        f"Your code to approve change request #{request.id}, {what}, is {code}.\n"
        f"It is valid for {current_app.config['OTP_TTL_SECONDS'] // 60} minutes.",
    )


def send_step_up_code(request_id: int, *, actor: User) -> None:
    """Mail ``actor`` a one-time code for the request's next level (when they may decide
    it and it needs one; InvalidInput when it needs none)."""
    request = state.pending(request_id)
    if (own := DECIDERS.get(request.action)) is not None:
        own.send_code(request, actor=actor)
        return
    found = requirements.now_in_force(session(), request)
    requirements.check_decider(session(), request, actor, found)
    if not requirements.step_up_at_next_level(request, found):
        raise InvalidInput("This request needs no one-time code at this level.")
    _mail_code(actor, request)


def approve(
    request_id: int,
    *,
    actor: User,
    reason: str | None = None,
    step_up_code: str | None = None,
    send_code: bool = True,
) -> ChangeRequest:
    """Approve the request's next level; the last level rechecks and executes it.

    Forbidden: no ``requests.decide``, own request, role not allowed at this level;
    StepUpRequired (a Forbidden) at a step-up level without ``step_up_code`` (a code is
    mailed unless ``send_code`` is false); InvalidInput: wrong code or reason; Conflict:
    already decided, expired, decided by this person before, or someone else decided
    the same level at the same moment. Returns the request as it now is (``approved``,
    ``failed`` with ``failure_reason``, or still ``pending`` at a later level).
    """
    permissions.require(actor, DECIDE, "Only approvers decide requests.")
    reason = state.clean_reason(reason, required=False)
    request = state.pending(request_id)
    if (own := DECIDERS.get(request.action)) is not None:
        own.approve(request, actor=actor, reason=reason, code=step_up_code, send_code=send_code)
        return get(request_id)
    found = requirements.now_in_force(session(), request)
    requirements.check_decider(session(), request, actor, found)
    expected = request.levels_approved  # the level checked; the code's commit expires it
    used = _step_up(request, found, actor, step_up_code, send_code)
    with write_transaction(expire_on_commit=False) as s:
        now = utcnow()
        request = state.lock(s, request_id)
        if request.status != CR_PENDING or request.levels_approved != expected:
            raise Conflict(f"Change request #{request.id} was decided by someone else meanwhile.")
        if request.expires_at <= now:
            raise Conflict(f"Change request #{request.id} has expired.")
        _adopt_policy_now(s, request, actor)
        requirements.check_decider(s, request, actor, requirements.stored(request))
        if requirements.step_up_at_next_level(request, requirements.stored(request)) and not used:
            raise StepUpRequired(
                f"Change request #{request.id} now needs a one-time code at this level: "
                "ask for one."
            )
        level = expected + 1
        s.add(
            ChangeDecision(
                request_id=request.id,
                level=level,
                decider_id=actor.id,
                decision=DECISION_APPROVE,
                reason=reason,
                step_up_used=used,
                policy_version=request.policy_version,
                decided_at=now,
            )
        )
        final = level >= request.levels_required
        values: dict[str, Any] = {"levels_approved": level}
        if final:
            values.update(status=CR_APPROVED, decided_at=now)
        state.transition(s, request, expected, **values)
        state.record(s, request, actor, "approve", level=level, step_up=used, reason=reason)
        if final:
            state.execute(s, request, actor, now)
        state.decided(s, request, DECISION_APPROVE, request.failure_reason)
    return request


def reject(request_id: int, *, actor: User, reason: str) -> ChangeRequest:
    """Refuse the request (at its next level, by someone who may decide it) with a reason.

    Errors as ``approve``; InvalidInput without a reason."""
    permissions.require(actor, DECIDE, "Only approvers decide requests.")
    cleaned = state.clean_reason(reason, required=True)
    request = state.pending(request_id)
    if (own := DECIDERS.get(request.action)) is not None:
        own.reject(request, actor=actor, reason=cleaned)
        return get(request_id)
    requirements.check_decider(
        session(), request, actor, requirements.now_in_force(session(), request)
    )
    expected = request.levels_approved
    with write_transaction(expire_on_commit=False) as s:
        now = utcnow()
        request = state.lock(s, request_id)
        if request.status != CR_PENDING or request.levels_approved != expected:
            raise Conflict(f"Change request #{request.id} was decided by someone else meanwhile.")
        _adopt_policy_now(s, request, actor)
        requirements.check_decider(s, request, actor, requirements.stored(request))
        s.add(
            ChangeDecision(
                request_id=request.id,
                level=expected + 1,
                decider_id=actor.id,
                decision=DECISION_REJECT,
                reason=cleaned,
                step_up_used=False,
                policy_version=request.policy_version,
                decided_at=now,
            )
        )
        state.transition(s, request, expected, status=CR_REJECTED, decided_at=now)
        state.record(s, request, actor, "reject", level=expected + 1, reason=cleaned)
        state.decided(s, request, DECISION_REJECT, cleaned)
    return request


def cancel(request_id: int, *, actor: User) -> ChangeRequest:
    """The maker withdraws their pending request (Forbidden for anyone else)."""
    request = get(request_id)
    if request.maker_id != audit.actor_id(actor):
        raise Forbidden("Only the maker of a request can cancel it.")
    if request.status != CR_PENDING:
        raise Conflict(f"Change request #{request.id} was already decided: it is {request.status}.")
    if (own := DECIDERS.get(request.action)) is not None:
        own.cancel(request, actor=actor)
        return get(request_id)
    with write_transaction(expire_on_commit=False) as s:
        now = utcnow()
        request = state.lock(s, request_id)
        state.transition(s, request, request.levels_approved, status=CR_CANCELLED, decided_at=now)
        state.record(s, request, actor, "cancel")
        state.decided(s, request, "cancel", None)
    return request
