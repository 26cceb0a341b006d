"""Payments as change requests (action ``payments.payment``): registered here so the
inbox, the change-request API and the payments' own pages decide them the same way.

A payment's change request is made by the payments service when the payment reaches the
approval stage (vaulta/services/payments/payment_changes.py), never through ``submit``.
Its decisions are handed to the payments service (``DECIDERS``): approving, rejecting,
step-up codes (the payment's own), the maker's cancel, and expiry (the payment expires
with its request, and the other way round).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vaulta.models import ChangeRequest, Payment, User, utcnow
from vaulta.models.change_request import CR_CANCELLED
from vaulta.models.payment import PAYMENT_CANCELLED, PAYMENT_EXPIRED, PAYMENT_OPEN_STATUSES
from vaulta.services import audit, events
from vaulta.services.changes.actions import DECIDERS, ActionSpec, Decider, Prepared, register
from vaulta.services.changes.policies import PAYMENT_ACTION
from vaulta.services.errors import Conflict, DomainError, InvalidInput
from vaulta.services.unit_of_work import write_transaction


def _prepare(_s: Session, _actor: User, _params: dict[str, Any]) -> Prepared:
    raise InvalidInput(
        "Payments are requested on the payments pages or the payments API.", field="action"
    )


def _never(_s: Session, request: ChangeRequest, *_: Any) -> Any:
    raise DomainError(
        f"Change request #{request.id} is a payment: the payments service decides it."
    )


def _approve(
    request: ChangeRequest, *, actor: User, reason: str | None, code: str | None, send_code: bool
) -> None:
    from vaulta.services.payments import approvals

    approvals.approve(
        _payment_id(request), actor=actor, otp_code=code, send_code=send_code, reason=reason
    )


def _reject(request: ChangeRequest, *, actor: User, reason: str) -> None:
    from vaulta.services.payments import approvals

    approvals.reject(_payment_id(request), actor=actor, reason=reason)


def _send_code(request: ChangeRequest, *, actor: User) -> None:
    from vaulta.services.payments import approvals, payment_queries

    payment = payment_queries.get(_payment_id(request))
    approvals.check_four_eyes(payment, actor)
    if not approvals.needs_step_up(payment):
        raise InvalidInput("This request needs no one-time code at this level.")
    approvals.mail_step_up_code(actor, payment)


def _cancel(request: ChangeRequest, *, actor: User) -> None:
    """The maker (the customer, or the teller who entered it) withdraws the payment."""
    from vaulta.services.payments import payment_changes, payment_holds

    payment_id = _payment_id(request)
    now = utcnow()
    with write_transaction() as s:
        moved = s.execute(
            sa.update(Payment)
            .where(Payment.id == payment_id, Payment.status.in_(PAYMENT_OPEN_STATUSES))
            .values(status=PAYMENT_CANCELLED, decided_by_id=actor.id, decided_at=now)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:
            raise Conflict("This payment can no longer be cancelled: it was already decided.")
        audit.record(
            s, actor=actor, action="payment.cancel", object_type="payment", object_id=payment_id
        )
        events.emit_payment(s, "payment.cancelled", payment_id)
        payment_holds.release(s, [payment_id], actor_id=actor.id)
        payment_changes.end_request(s, [payment_id], CR_CANCELLED, now)


def _expired(s: Session, payment_ids: list[int], now: datetime) -> None:
    from vaulta.services.payments import payment_holds

    for payment_id in payment_ids:
        moved = s.execute(
            sa.update(Payment)
            .where(Payment.id == payment_id, Payment.status.in_(PAYMENT_OPEN_STATUSES))
            .values(status=PAYMENT_EXPIRED, decided_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount == 1:
            audit.record(
                s, actor=None, action="payment.expire", object_type="payment", object_id=payment_id
            )
            events.emit_payment(s, "payment.expired", payment_id)
            payment_holds.release(s, [payment_id], actor_id=None, expired=True)


def _payment_id(request: ChangeRequest) -> int:
    assert request.target_id is not None
    return request.target_id


register(
    ActionSpec(
        name=PAYMENT_ACTION,
        maker_permission="payments.request",
        label="Payment",
        is_money=True,
        prepare=_prepare,
        recheck=_never,
        execute=_never,
    )
)
DECIDERS[PAYMENT_ACTION] = Decider(
    approve=_approve, reject=_reject, send_code=_send_code, cancel=_cancel, expired=_expired
)
