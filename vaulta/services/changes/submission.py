"""Submitting a change request: the maker's permission, the action's checks, duplicates
and idempotency keys, the policy that applies; executed at once when it needs nobody."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vaulta.models import ChangeRequest, User, utcnow
from vaulta.models.change_request import (
    CR_APPROVED,
    CR_PENDING,
    DECISION_APPROVE,
)
from vaulta.services import audit, events
from vaulta.services.changes import policies
from vaulta.services.changes import request_state as state
from vaulta.services.changes.actions import ActionSpec, Prepared
from vaulta.services.errors import Conflict, InvalidInput
from vaulta.services.identity import permissions
from vaulta.services.unit_of_work import session, write_transaction


def submit(
    action: str, params: dict[str, Any], *, actor: User, idempotency_key: str | None = None
) -> ChangeRequest:
    """Ask for ``action`` with ``params``; return the stored request.

    Needs the action's ``maker_permission`` (a customer's login: its
    ``customer_maker_permission``, when the action has one; Forbidden otherwise). The
    action's ``prepare`` checks the input (InvalidInput, NotFound, Conflict). A second
    pending request with the same dedupe key is refused (DuplicateRequest, a Conflict
    naming the first). With an
    ``idempotency_key`` already used by this maker for this action, the first request is
    returned (Conflict when the key was used for something else).

    When the policy in force needs no approval (levels 0; the seeded ones never say so) it
    executes at once: the request comes back ``approved`` (or ``failed`` with the reason).
    """
    spec = state.spec_of(action)
    permissions.require(actor, spec.maker_permission_for(actor))
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
            raise state.DuplicateRequest(first_id) from None
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
            state.expire_rows(s, [first.id], now)
        elif first is not None:
            raise state.DuplicateRequest(first.id)
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
        expires_at=now + state.ttl(),
        dedupe_key=prepared.dedupe_key,
        idempotency_key=key,
    )
    s.add(request)
    s.flush()
    state.record(
        s,
        request,
        actor,
        "submit",
        summary=request.summary,
        amount_minor=request.amount_minor,
        currency=request.currency,
    )
    events.emit(s, "change_request.created", state.event_data(request))
    if spec.submitted is not None:
        spec.submitted(s, request)
    if outcome.levels == 0:
        state.transition(s, request, 0, status=CR_APPROVED, decided_at=now)
        state.execute(s, request, actor, now)
        state.decided(s, request, DECISION_APPROVE, request.failure_reason)
    return request
