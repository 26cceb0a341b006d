"""Running standing orders: each due date exactly once, in batches, catching up with care.

``run_due(today)`` takes the active orders whose next due date has come, in batches of
``BATCH``, and runs each due date in its own transaction (``run_next``):

- the order's row is locked (``SELECT … FOR UPDATE``; SQLite's write lock) and its next due
  date read again, so a second runner (a second worker, the CLI beside the job) waits, then
  finds the date already done and moves on;
- a ``standing_order_runs`` row is inserted for (order, due date): its unique constraint is
  the last guard, so even a runner that got past the lock cannot make a second payment (its
  transaction, payment included, rolls back);
- the payment is checked and made by vaulta/services/payments/payment_creation.py like any
  other (audited ``payment.request_standing_order``), straight into the approval queue: the
  customer consented when they set the order up. A refused payment (account frozen or
  closed, beneficiary closed, customer suspended …) makes a ``failed`` run with the error;
- the next due date moves on, and the order completes after its end date or count; a
  ``standing_order.run`` event and an audit event (no actor: the scheduler) go with it.

Catch-up rule: after downtime every missed date is recorded once, but only dates at most
STANDING_ORDER_CATCH_UP_DAYS days old make a payment; older ones are ``skipped`` (no
payment, they count towards the order's count). A monthly order down for three months thus
pays at most once late, never three times at once.

Failed runs mail the customer (``send_failure_mails``), at least once: the run row commits
with ``mailed_at`` empty, so a failure is never lost; a runner claims it with a lease, mails
outside any transaction, then sets ``mailed_at``. A runner that dies between the mail and
the mark leaves the lease to lapse and the mail goes again (a duplicate, never a loss).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from vaulta.models import StandingOrder, StandingOrderRun, User, utcnow
from vaulta.models.standing_order import (
    ERROR_MAX,
    ORDER_ACTIVE,
    ORDER_COMPLETED,
    RUN_CREATED,
    RUN_FAILED,
    RUN_SKIPPED,
)
from vaulta.services import audit, events
from vaulta.services.errors import DomainError
from vaulta.services.payments.payment_creation import PaymentOrder, add_payment, check_order
from vaulta.services.standing_orders import failure_mail, queries, schedule
from vaulta.services.unit_of_work import session, write_transaction

log = logging.getLogger(__name__)
BATCH = 100


def due_ids(today: date, limit: int = BATCH) -> list[int]:
    """Active orders due on or before ``today`` (the (status, next_due_date) index)."""
    return list(
        session().scalars(
            sa.select(StandingOrder.id)
            .where(StandingOrder.status == ORDER_ACTIVE, StandingOrder.next_due_date <= today)
            .order_by(StandingOrder.next_due_date, StandingOrder.id)
            .limit(limit)
        )
    )


def run_due(today: date | None = None) -> Counter[str]:
    """Run every due date of every due order up to ``today``; then mail the failures.
    Counts runs by status (``created``, ``failed``, ``skipped``)."""
    today = today or utcnow().date()
    counts: Counter[str] = Counter()
    while ids := due_ids(today):
        progressed = False
        for order_id in ids:
            while (status := run_next(order_id, today)) is not None:
                counts[status] += 1
                progressed = True
        if not progressed:  # all taken by another runner meanwhile
            break
    if counts:
        log.info("standing orders run for %s: %s", today, dict(counts))
    failure_mail.send_due()
    return counts


def run_next(order_id: int, today: date) -> str | None:
    """Run the order's next due date if it has come; its run's status, or None when there
    was nothing to do (not due, not active, or another runner made this run)."""
    try:
        with write_transaction() as s:
            return _run_locked(s, order_id, today)
    except sa.exc.IntegrityError:  # the unique (order, due date): another runner's
        log.info("standing order %s: run already made by another runner", order_id)
        return None


def _run_locked(s: Session, order_id: int, today: date) -> str | None:
    order = s.execute(
        sa.select(StandingOrder)
        .where(StandingOrder.id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if order is None or order.status != ORDER_ACTIVE or order.next_due_date is None:
        return None
    due = order.next_due_date
    if due > today:
        return None
    run = StandingOrderRun(standing_order_id=order.id, due_date=due)
    oldest = today - timedelta(days=current_app.config["STANDING_ORDER_CATCH_UP_DAYS"])
    if due < oldest:
        run.status = RUN_SKIPPED
    else:
        _pay(s, order, run)
    s.add(run)
    s.flush()  # the unique (order, due date) refuses a second run here
    _advance(order)
    audit.record(
        s,
        actor=None,
        action="standing_order.run",
        object_type="standing_order",
        object_id=order.id,
        details={
            "due_date": due.isoformat(),
            "status": run.status,
            "payment_id": run.payment_id,
            **({"error": run.error} if run.error else {}),
        },
    )
    events.emit(
        s,
        "standing_order.run",
        events.StandingOrderRunData(
            standing_order_id=order.id,
            due_date=due,
            status=run.status,
            payment_id=run.payment_id,
            error=run.error,
        ),
    )
    return run.status


def _pay(s: Session, order: StandingOrder, run: StandingOrderRun) -> None:
    """Make the run's payment, or record why it was refused."""
    requester = s.get(User, order.created_by_id)
    try:
        if requester is None or not requester.is_active:
            raise DomainError("The login that set up this standing order is no longer active.")
        checked = check_order(
            requester,
            payment_order(order),
            customer_id=None if requester.customer_id is not None else order.customer_id,
        )
        payment = add_payment(
            s,
            requester,
            checked,
            now=utcnow(),
            confirmed=True,
            action="payment.request_standing_order",
            audit_details={"standing_order_id": order.id, "due_date": run.due_date.isoformat()},
        )
    except DomainError as err:
        run.status, run.error = RUN_FAILED, err.message[:ERROR_MAX]
        return
    run.status, run.payment_id = RUN_CREATED, payment.id


def payment_order(order: StandingOrder) -> PaymentOrder:
    """The one-off payment order each run checks again (the accounts as they are now)."""
    return PaymentOrder(
        from_account=queries.account_number(order.from_account_id) or "",
        reference=order.reference,
        amount_minor=order.amount_minor,
        currency=order.currency,
        to_account=queries.account_number(order.to_account_id) or "",
        beneficiary_name=order.beneficiary_name or "",
        beneficiary_iban=order.beneficiary_iban or "",
        beneficiary_bic=order.beneficiary_bic or "",
    )


def _advance(order: StandingOrder) -> None:
    """Count the run and move to the next due date, or complete the order."""
    assert order.next_due_date is not None
    order.runs_done += 1
    following = schedule.next_after(order.first_date, order.frequency, order.next_due_date)
    ended_by_count = order.max_runs is not None and order.runs_done >= order.max_runs
    ended_by_date = order.end_date is not None and following > order.end_date
    if ended_by_count or ended_by_date:
        order.status, order.next_due_date, order.ended_at = ORDER_COMPLETED, None, utcnow()
    else:
        order.next_due_date = following
