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

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from vaulta import mail
from vaulta.models import ChangeDecision, ChangeRequest, User, utcnow
from vaulta.models.change_request import (
    CR_APPROVED,
    CR_CANCELLED,
    CR_EXPIRED,
    CR_FAILED,
    CR_PENDING,
    CR_REJECTED,
    DECISION_APPROVE,
    DECISION_REJECT,
)
from vaulta.money import format_amount
from vaulta.services import audit, events
from vaulta.services.audit import chain
from vaulta.services.changes import policies
from vaulta.services.changes.actions import ActionSpec, Prepared, get_action
from vaulta.services.changes.policies import PolicyOutcome
from vaulta.services.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from vaulta.services.events.payloads import ChangeRequestData
from vaulta.services.identity import otp, permissions
from vaulta.services.unit_of_work import session, write_transaction
from vaulta.text import display_problem

DECIDE = "requests.decide"
REASON_MAX = 500
OBJECT = "change_request"


class StepUpRequired(Forbidden):
    """This level needs a fresh one-time code from the decider (one was mailed)."""

    code = "step_up_required"


class DuplicateRequest(Conflict):
    """A pending request for the same action on the same object exists: ``first_id``."""

    code = "duplicate_request"

    def __init__(self, first_id: int) -> None:
        super().__init__(
            f"Change request #{first_id} for the same thing is already pending: "
            "decide or cancel it first."
        )
        self.first_id = first_id


# ---------------------------------------------------------------- helpers


def _ttl() -> timedelta:
    return timedelta(hours=current_app.config["CHANGE_REQUEST_TTL_HOURS"])


def _clean_reason(reason: str | None, *, required: bool) -> str | None:
    reason = " ".join((reason or "").split())
    if not reason:
        if required:
            raise InvalidInput("Give a reason.", field="reason")
        return None
    if len(reason) > REASON_MAX:
        raise InvalidInput(f"Keep the reason under {REASON_MAX} characters.", field="reason")
    if problem := display_problem(reason):
        raise InvalidInput(problem, field="reason")
    return reason


def _spec(action: str) -> ActionSpec:
    try:
        return get_action(action)
    except KeyError:
        raise InvalidInput(f"Unknown action {action!r}.", field="action") from None


def _data(request: ChangeRequest, **extra: Any) -> ChangeRequestData:
    return ChangeRequestData(
        id=request.id,
        action=request.action,
        status=request.status,
        target_type=request.target_type,
        target_id=request.target_id,
        customer_id=request.customer_id,
        amount_minor=request.amount_minor,
        currency=request.currency,
        levels_required=request.levels_required,
        levels_approved=request.levels_approved,
        policy_version=request.policy_version,
        result=request.result,
        **extra,
    )


def _record(
    s: Session, request: ChangeRequest, actor: User | int | None, what: str, **details: Any
) -> None:
    audit.record(
        s,
        actor=actor,
        action=f"change_request.{what}",
        object_type=OBJECT,
        object_id=request.id,
        details={
            "action": request.action,
            "policy_id": request.policy_id,
            "policy_version": request.policy_version,
            "levels_required": request.levels_required,
            **details,
        },
    )


def _decided(s: Session, request: ChangeRequest, decision: str, reason: str | None) -> None:
    s.flush()
    events.emit(s, "change_request.decided", _data(request, decision=decision, reason=reason))


def _transition(s: Session, request: ChangeRequest, expected_level: int, **values: Any) -> None:
    """The conditional UPDATE every transition is: pending and at ``expected_level`` still,
    or Conflict (someone else decided first). Updates ``request`` in the session too."""
    s.flush()
    moved = s.execute(
        sa.update(ChangeRequest)
        .where(
            ChangeRequest.id == request.id,
            ChangeRequest.status == CR_PENDING,
            ChangeRequest.levels_approved == expected_level,
        )
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )
    if moved.rowcount != 1:
        raise Conflict(f"Change request #{request.id} was decided by someone else meanwhile.")


def _lock(s: Session, request_id: int) -> ChangeRequest:
    request = s.get(ChangeRequest, request_id, with_for_update=True, populate_existing=True)
    if request is None:
        raise NotFound("No such change request.")
    return request


def get(request_id: int) -> ChangeRequest:
    """The request (NotFound when there is none). Expired ones are marked so first."""
    request = session().get(ChangeRequest, request_id, populate_existing=True)
    if request is None:
        raise NotFound("No such change request.")
    if request.status == CR_PENDING and request.expires_at <= utcnow():
        expire_due(ids=[request.id])
        request = session().get(ChangeRequest, request_id, populate_existing=True)
        assert request is not None
    return request


def _pending(request_id: int) -> ChangeRequest:
    request = get(request_id)
    if request.status != CR_PENDING:
        raise Conflict(f"Change request #{request.id} was already decided: it is {request.status}.")
    return request


# ---------------------------------------------------------------- submit


def submit(
    action: str, params: dict[str, Any], *, actor: User, idempotency_key: str | None = None
) -> ChangeRequest:
    """Ask for ``action`` with ``params``; return the stored request.

    Needs the action's ``maker_permission`` (Forbidden). The action's ``prepare`` checks
    the input (InvalidInput, NotFound, Conflict). A second pending request with the same
    dedupe key is refused (DuplicateRequest, a Conflict naming the first). With an
    ``idempotency_key`` already used by this maker for this action, the first request is
    returned (Conflict when the key was used for something else).

    When the policy in force needs no approval (levels 0; the seeded ones never say so) it
    executes at once: the request comes back ``approved`` (or ``failed`` with the reason).
    """
    spec = _spec(action)
    permissions.require(actor, spec.maker_permission)
    maker_id = audit.actor_id(actor)
    assert maker_id is not None
    key = (idempotency_key or "").strip() or None
    if key is not None:
        if len(key) > 64:
            raise InvalidInput("The idempotency key is too long.", field="idempotency_key")
        if (first := _by_idempotency_key(key, action, maker_id)) is not None:
            return first
    prepared = spec.prepare(session(), actor, dict(params))
    try:
        with write_transaction(expire_on_commit=False) as s:
            request = _insert(s, spec, prepared, actor, maker_id, key)
    except sa.exc.IntegrityError:
        session().rollback()
        if key is not None and (first := _by_idempotency_key(key, action, maker_id)) is not None:
            return first
        if prepared.dedupe_key and (first_id := pending_duplicate_id(prepared.dedupe_key)):
            raise DuplicateRequest(first_id) from None
        raise
    return request


def _by_idempotency_key(key: str, action: str, maker_id: int) -> ChangeRequest | None:
    first = session().scalar(sa.select(ChangeRequest).where(ChangeRequest.idempotency_key == key))
    if first is None:
        return None
    if first.maker_id != maker_id or first.action != action:
        raise Conflict("This idempotency key was already used for a different request.")
    return first


def pending_duplicate_id(dedupe_key: str, s: Session | None = None) -> int | None:
    """The id of the pending request with ``dedupe_key``, if there is one."""
    return (s or session()).scalar(
        sa.select(ChangeRequest.id).where(
            ChangeRequest.dedupe_key == dedupe_key, ChangeRequest.status == CR_PENDING
        )
    )


def _insert(
    s: Session,
    spec: ActionSpec,
    prepared: Prepared,
    actor: User,
    maker_id: int,
    key: str | None,
) -> ChangeRequest:
    now = utcnow()
    if prepared.dedupe_key:
        first = s.scalar(
            sa.select(ChangeRequest).where(
                ChangeRequest.dedupe_key == prepared.dedupe_key,
                ChangeRequest.status == CR_PENDING,
            )
        )
        if first is not None and first.expires_at <= now:
            _expire_rows(s, [first.id], now)
        elif first is not None:
            raise DuplicateRequest(first.id)
    outcome = policies.evaluate(s, spec.name, prepared, maker_id=maker_id, now=now)
    request = ChangeRequest(
        action=spec.name,
        target_type=prepared.target_type,
        target_id=prepared.target_id,
        customer_id=prepared.customer_id,
        account_kind=prepared.account_kind,
        amount_minor=prepared.amount_minor,
        currency=prepared.currency,
        beneficiary=prepared.beneficiary,
        change={"before": prepared.before, "after": prepared.after, "params": prepared.params},
        summary=prepared.summary[:200],
        maker_id=maker_id,
        status=CR_PENDING,
        policy_id=outcome.policy_id,
        policy_version=outcome.version,
        levels_required=outcome.levels,
        levels_approved=0,
        roles_per_level=outcome.roles_per_level,
        step_up_levels=outcome.step_up_levels,
        bulk_allowed=outcome.bulk_allowed,
        created_at=now,
        expires_at=now + _ttl(),
        dedupe_key=prepared.dedupe_key,
        idempotency_key=key,
    )
    s.add(request)
    s.flush()
    _record(
        s,
        request,
        actor,
        "submit",
        summary=request.summary,
        amount_minor=request.amount_minor,
        currency=request.currency,
    )
    events.emit(s, "change_request.created", _data(request))
    if outcome.levels == 0:
        _transition(s, request, 0, status=CR_APPROVED, decided_at=now)
        _execute(s, request, actor, now)
        _decided(s, request, DECISION_APPROVE, request.failure_reason)
    return request


# ---------------------------------------------------------------- deciding


def needs_step_up(request: ChangeRequest, actor: User | None = None) -> bool:
    """True when approving ``request`` now (its next level) needs a one-time code.

    ``actor`` is accepted for callers that ask per person; the answer depends only on the
    level (the policy says which levels need step-up)."""
    return request.status == CR_PENDING and request.next_level in (request.step_up_levels or [])


def roles_at(request: ChangeRequest, level: int) -> list[str]:
    """The roles that may decide ``level`` (1-based) of ``request``."""
    roles = request.roles_per_level or policies.FALLBACK_ROLES
    return list(roles[min(level, len(roles)) - 1])


def may_decide(request: ChangeRequest, actor: User) -> bool:
    """Whether ``actor`` could decide ``request``'s next level (not counting step-up)."""
    try:
        _check_decider(session(), request, actor)
    except DomainError:
        return False
    return True


def _check_decider(s: Session, request: ChangeRequest, actor: User) -> None:
    permissions.require(actor, DECIDE, "Only approvers decide requests.")
    if request.maker_id == audit.actor_id(actor):
        raise Forbidden("Four eyes: you made this request, so someone else must decide it.")
    before = s.scalar(
        sa.select(ChangeDecision.level).where(
            ChangeDecision.request_id == request.id, ChangeDecision.decider_id == actor.id
        )
    )
    if before is not None:
        raise Conflict(f"You already decided change request #{request.id} (level {before}).")
    allowed = roles_at(request, request.next_level)
    if not permissions.roles_of(actor) & set(allowed):
        raise Forbidden(
            f"Level {request.next_level} of this request is for {', '.join(allowed)} only."
        )


def _apply_policy_now(s: Session, request: ChangeRequest, actor: User) -> None:
    """Check the request against the policy now in force; record a stricter outcome."""
    outcome: PolicyOutcome = policies.evaluate(s, request.action, request)
    if outcome.levels <= request.levels_required:
        return
    previous = (request.policy_id, request.policy_version, request.levels_required)
    request.policy_id = outcome.policy_id
    request.policy_version = outcome.version
    request.levels_required = outcome.levels
    request.roles_per_level = outcome.roles_per_level
    request.step_up_levels = sorted(set(request.step_up_levels or []) | set(outcome.step_up_levels))
    request.bulk_allowed = request.bulk_allowed and outcome.bulk_allowed
    s.flush()
    _record(
        s,
        request,
        actor,
        "policy_raised",
        previous_policy_id=previous[0],
        previous_policy_version=previous[1],
        previous_levels=previous[2],
    )


def _step_up(request: ChangeRequest, actor: User, code: str | None, send_code: bool) -> bool:
    """Verify the decider's one-time code when the next level needs one; True if used."""
    if not needs_step_up(request):
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
    request = _pending(request_id)
    _check_decider(session(), request, actor)
    if not needs_step_up(request):
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
    reason = _clean_reason(reason, required=False)
    request = _pending(request_id)
    _check_decider(session(), request, actor)
    used = _step_up(request, actor, step_up_code, send_code)
    expected = request.levels_approved
    with write_transaction(expire_on_commit=False) as s:
        now = utcnow()
        request = _lock(s, request_id)
        if request.status != CR_PENDING or request.levels_approved != expected:
            raise Conflict(f"Change request #{request.id} was decided by someone else meanwhile.")
        if request.expires_at <= now:
            raise Conflict(f"Change request #{request.id} has expired.")
        _apply_policy_now(s, request, actor)
        _check_decider(s, request, actor)
        if needs_step_up(request) and not used:
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
        _transition(s, request, expected, **values)
        _record(s, request, actor, "approve", level=level, step_up=used, reason=reason)
        if final:
            _execute(s, request, actor, now)
        _decided(s, request, DECISION_APPROVE, request.failure_reason)
    return request


def _execute(s: Session, request: ChangeRequest, decider: User, now: datetime) -> None:
    """Recheck and execute the (just approved) request in a savepoint; on a domain error
    roll the savepoint back and mark the request failed with the reason instead."""
    spec = get_action(request.action)
    mark = len(chain.pending(s))
    try:
        with s.begin_nested():
            spec.recheck(s, request)
            result = spec.execute(s, request, decider)
    except DomainError as err:
        del chain.pending(s)[mark:]  # the audit events of what was rolled back
        request.status = CR_FAILED
        request.failure_reason = err.message
        request.decided_at = now
        s.flush()
        _record(s, request, decider, "fail", reason=err.message)
        return
    request.result = result
    s.flush()
    _record(s, request, decider, "execute", result=result)


def reject(request_id: int, *, actor: User, reason: str) -> ChangeRequest:
    """Refuse the request (at its next level, by someone who may decide it) with a reason.

    Errors as ``approve``; InvalidInput without a reason."""
    permissions.require(actor, DECIDE, "Only approvers decide requests.")
    cleaned = _clean_reason(reason, required=True)
    request = _pending(request_id)
    _check_decider(session(), request, actor)
    expected = request.levels_approved
    with write_transaction(expire_on_commit=False) as s:
        now = utcnow()
        request = _lock(s, request_id)
        _check_decider(s, request, actor)
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
        _transition(s, request, expected, status=CR_REJECTED, decided_at=now)
        _record(s, request, actor, "reject", level=expected + 1, reason=cleaned)
        _decided(s, request, DECISION_REJECT, cleaned)
    return request


def cancel(request_id: int, *, actor: User) -> ChangeRequest:
    """The maker withdraws their pending request (Forbidden for anyone else)."""
    request = get(request_id)
    if request.maker_id != audit.actor_id(actor):
        raise Forbidden("Only the maker of a request can cancel it.")
    if request.status != CR_PENDING:
        raise Conflict(f"Change request #{request.id} was already decided: it is {request.status}.")
    with write_transaction(expire_on_commit=False) as s:
        now = utcnow()
        request = _lock(s, request_id)
        _transition(s, request, request.levels_approved, status=CR_CANCELLED, decided_at=now)
        _record(s, request, actor, "cancel")
        _decided(s, request, "cancel", None)
    return request


# ---------------------------------------------------------------- expiry


def expire_due(now: datetime | None = None, *, ids: list[int] | None = None) -> int:
    """Mark every pending request whose time has passed ``expired`` (only those in ``ids``
    when given); return how many. Audited (by nobody) with an event each."""
    now = now or utcnow()
    query = sa.select(ChangeRequest.id).where(
        ChangeRequest.status == CR_PENDING, ChangeRequest.expires_at <= now
    )
    if ids is not None:
        query = query.where(ChangeRequest.id.in_(ids))
    due = list(session().scalars(query))
    if not due:
        return 0
    with write_transaction() as s:
        return _expire_rows(s, due, now)


def _expire_rows(s: Session, ids: list[int], now: datetime) -> int:
    s.flush()
    rows = list(
        s.scalars(
            sa.select(ChangeRequest)
            .where(ChangeRequest.id.in_(ids), ChangeRequest.status == CR_PENDING)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    expired = 0
    for request in rows:
        if request.expires_at > now:
            continue
        request.status = CR_EXPIRED
        request.decided_at = now
        s.flush()
        _record(s, request, None, "expire")
        _decided(s, request, "expire", None)
        expired += 1
    return expired
