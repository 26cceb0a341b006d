"""What the change-request commands share: their errors, loading and locking a request,
the conditional transition every decision is, audit and outbox records, execution (in a
savepoint: a failure is recorded, nothing executed) and expiry."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from vaulta.models import ChangeRequest, User, utcnow
from vaulta.models.change_request import (
    CR_EXPIRED,
    CR_FAILED,
    CR_PENDING,
)
from vaulta.services import audit, events
from vaulta.services.audit import chain
from vaulta.services.changes.actions import DECIDERS, ActionSpec, get_action
from vaulta.services.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from vaulta.services.events.payloads import ChangeRequestData
from vaulta.services.unit_of_work import session, write_transaction
from vaulta.text import display_problem

OBJECT = "change_request"
REASON_MAX = 500


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


def ttl() -> timedelta:
    return timedelta(hours=current_app.config["CHANGE_REQUEST_TTL_HOURS"])


def clean_reason(reason: str | None, *, required: bool) -> str | None:
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


def spec_of(action: str) -> ActionSpec:
    try:
        return get_action(action)
    except KeyError:
        raise InvalidInput(f"Unknown action {action!r}.", field="action") from None


def event_data(request: ChangeRequest, **extra: Any) -> ChangeRequestData:
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


def record(
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


def decided(s: Session, request: ChangeRequest, decision: str, reason: str | None) -> None:
    s.flush()
    events.emit(s, "change_request.decided", event_data(request, decision=decision, reason=reason))


def transition(s: Session, request: ChangeRequest, expected_level: int, **values: Any) -> None:
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


def lock(s: Session, request_id: int) -> ChangeRequest:
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


def pending(request_id: int) -> ChangeRequest:
    request = get(request_id)
    if request.status != CR_PENDING:
        raise Conflict(f"Change request #{request.id} was already decided: it is {request.status}.")
    return request


def execute(s: Session, request: ChangeRequest, decider: User, now: datetime) -> None:
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
        record(s, request, decider, "fail", reason=err.message)
        return
    request.result = result
    s.flush()
    record(s, request, decider, "execute", result=result)


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
        return expire_rows(s, due, now)


def expire_rows(s: Session, ids: list[int], now: datetime) -> int:
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
    targets: dict[str, list[int]] = {}
    for request in rows:
        if request.expires_at > now:
            continue
        request.status = CR_EXPIRED
        request.decided_at = now
        s.flush()
        record(s, request, None, "expire")
        decided(s, request, "expire", None)
        expired += 1
        if request.action in DECIDERS and request.target_id is not None:
            targets.setdefault(request.action, []).append(request.target_id)
    for action, ids in targets.items():  # a payment expires with its request
        DECIDERS[action].expired(s, ids, now)
    return expired
