"""Setting up, pausing, resuming and cancelling standing orders (each one audited).

A standing order is checked exactly as a one-off payment is (``check_order`` of
vaulta/services/payments/payment_creation.py): the customer's own active account, a VAULTA
account or an external IBAN (and BIC), the amount in the account's currency. It is made by
the customer (``own.payments.request``) or by staff on their behalf (``payments.request``).
Dates passed while an order is paused are not paid later: resuming moves the next due date
to the first occurrence from today on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vaulta.models import StandingOrder, User, utcnow
from vaulta.models.standing_order import (
    FREQUENCIES,
    ORDER_ACTIVE,
    ORDER_CANCELLED,
    ORDER_COMPLETED,
    ORDER_PAUSED,
)
from vaulta.services import audit, events
from vaulta.services.errors import Conflict, InvalidInput, NotFound
from vaulta.services.identity import permissions
from vaulta.services.payments.payment_creation import CheckedPayment, PaymentOrder, check_order
from vaulta.services.standing_orders import queries, schedule
from vaulta.services.unit_of_work import write_transaction

MAX_RUNS = 1000
STAFF_REQUEST = "payments.request"
OWN_REQUEST = "own.payments.request"


@dataclass(frozen=True)
class Schedule:
    """When an order pays: ``frequency`` from ``first_date``, until ``end_date`` and/or for
    ``max_runs`` runs (both optional)."""

    frequency: str
    first_date: date | None
    end_date: date | None = None
    max_runs: int | None = None


def _check_schedule(plan: Schedule, today: date) -> date:
    if plan.frequency not in FREQUENCIES:
        raise InvalidInput("Choose weekly or monthly.", field="frequency")
    if plan.first_date is None:
        raise InvalidInput("Enter the first date.", field="first_date")
    if plan.first_date < today:
        raise InvalidInput("The first date cannot be in the past.", field="first_date")
    if plan.end_date is not None and plan.end_date < plan.first_date:
        raise InvalidInput("The end date must be on or after the first date.", field="end_date")
    if plan.max_runs is not None and not 0 < plan.max_runs <= MAX_RUNS:
        raise InvalidInput(f"The number of runs is 1 to {MAX_RUNS}.", field="max_runs")
    return plan.first_date


def _customer_for(actor: User, customer_id: int | None) -> int | None:
    """Whose order it is: the actor's own customer, or ``customer_id`` for staff."""
    if actor.customer_id is not None:
        permissions.require(actor, OWN_REQUEST)
        if customer_id not in (None, actor.customer_id):
            raise NotFound("No such customer.")
        return None  # check_order takes the actor's own
    permissions.require(actor, STAFF_REQUEST)
    if customer_id is None:
        raise InvalidInput("Choose the customer.")
    return customer_id


def data(order: StandingOrder) -> events.StandingOrderData:
    return events.StandingOrderData(
        id=order.id,
        customer_id=order.customer_id,
        status=order.status,
        from_account=queries.account_number(order.from_account_id) or "",
        to_account=queries.account_number(order.to_account_id),
        beneficiary_iban=order.beneficiary_iban,
        amount_minor=order.amount_minor,
        currency=order.currency,
        reference=order.reference,
        frequency=order.frequency,
        first_date=order.first_date,
        end_date=order.end_date,
        max_runs=order.max_runs,
        next_due_date=order.next_due_date,
    )


@dataclass(frozen=True)
class CheckedStandingOrder:
    """An order and its schedule checked, ready to be saved by ``add``."""

    payment: CheckedPayment
    plan: Schedule
    first_date: date


def check(
    *, actor: User, order: PaymentOrder, plan: Schedule, customer_id: int | None = None
) -> CheckedStandingOrder:
    """Check the actor's right, the schedule and the payment order; raise InvalidInput."""
    on_behalf = _customer_for(actor, customer_id)
    first = _check_schedule(plan, utcnow().date())
    checked = check_order(actor, order, customer_id=on_behalf)
    return CheckedStandingOrder(checked, plan, first)


def add(s: Session, actor: User, checked: CheckedStandingOrder) -> StandingOrder:
    """Save a checked order inside the caller's transaction; audited ``standing_order.create``
    with its ``standing_order.created`` event."""
    payment, plan, first = checked.payment, checked.plan, checked.first_date
    made = StandingOrder(
        customer_id=payment.source.customer_id,
        from_account_id=payment.source.id,
        to_account_id=payment.target.id if payment.target else None,
        beneficiary_name=payment.beneficiary_name,
        beneficiary_iban=payment.beneficiary_iban,
        beneficiary_bic=payment.beneficiary_bic,
        amount_minor=payment.amount_minor,
        currency=payment.source.currency,
        reference=payment.reference,
        frequency=plan.frequency,
        first_date=first,
        end_date=plan.end_date,
        max_runs=plan.max_runs,
        runs_done=0,
        next_due_date=first,
        status=ORDER_ACTIVE,
        created_by_id=actor.id,
    )
    s.add(made)
    s.flush()
    audit.record(
        s,
        actor=actor,
        action="standing_order.create",
        object_type="standing_order",
        object_id=made.id,
        details={
            "customer_id": made.customer_id,
            "amount_minor": made.amount_minor,
            "currency": made.currency,
            "frequency": made.frequency,
            "first_date": first.isoformat(),
        },
    )
    events.emit(s, "standing_order.created", data(made))
    return made


def create(
    *, actor: User, order: PaymentOrder, plan: Schedule, customer_id: int | None = None
) -> StandingOrder:
    """Check and save a standing order; audited ``standing_order.create``."""
    checked = check(actor=actor, order=order, plan=plan, customer_id=customer_id)
    with write_transaction() as s:
        order_id = add(s, actor, checked).id
    return queries.get(order_id)


def _locked(s: Session, order_id: int) -> StandingOrder:
    found = s.execute(
        sa.select(StandingOrder)
        .where(StandingOrder.id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    return found


def _may_change(order: StandingOrder, actor: User) -> None:
    if actor.customer_id is not None:
        permissions.require(actor, OWN_REQUEST)
    else:
        permissions.require(actor, STAFF_REQUEST)


def _change(order_id: int, actor: User, action: str, allowed: tuple[str, ...]) -> StandingOrder:
    order = queries.get_for(order_id, actor)
    _may_change(order, actor)
    today = utcnow().date()
    with write_transaction() as s:
        locked = _locked(s, order.id)
        if locked.status not in allowed:
            raise Conflict(f"This standing order is {locked.status}.")
        before = locked.status
        if action == "pause":
            locked.status = ORDER_PAUSED
        elif action == "resume":
            _resume(locked, today)
        else:
            locked.status = ORDER_CANCELLED
            locked.next_due_date = None
            locked.ended_at = utcnow()
        audit.record(
            s,
            actor=actor,
            action=f"standing_order.{action}",
            object_type="standing_order",
            object_id=locked.id,
            details={"from": before, "to": locked.status},
        )
    return queries.get(order.id)


def _resume(order: StandingOrder, today: date) -> None:
    assert order.next_due_date is not None
    due = schedule.first_on_or_after(order.first_date, order.frequency, order.next_due_date, today)
    if order.end_date is not None and due > order.end_date:
        order.status, order.next_due_date, order.ended_at = ORDER_COMPLETED, None, utcnow()
        return
    order.status, order.next_due_date = ORDER_ACTIVE, due


def pause(order_id: int, *, actor: User) -> StandingOrder:
    return _change(order_id, actor, "pause", (ORDER_ACTIVE,))


def resume(order_id: int, *, actor: User) -> StandingOrder:
    return _change(order_id, actor, "resume", (ORDER_PAUSED,))


def cancel(order_id: int, *, actor: User) -> StandingOrder:
    return _change(order_id, actor, "cancel", (ORDER_ACTIVE, ORDER_PAUSED))
