"""Every transition of a payment, allowed or refused, from every status (table-driven)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from tests.helpers import count_rows
from tests.services.payments.factories import backdate_expiry, make_payment
from vaulta.extensions import db
from vaulta.models import Account, Payment, Transaction, User
from vaulta.models.payment import PAYMENT_STATUSES
from vaulta.services.errors import Conflict
from vaulta.services.identity import otp
from vaulta.services.payments import approvals, expiry, payment_requests

AWAITING, PENDING, EXECUTED = "awaiting_confirmation", "pending_approval", "executed"
REJECTED, CANCELLED, EXPIRED, FAILED = "rejected", "cancelled", "expired", "failed"
ACTIONS = ("confirm", "cancel", "approve", "reject", "expire")
OPEN = {
    AWAITING: {
        "confirm": PENDING, "cancel": CANCELLED, "approve": Conflict, "reject": Conflict,
        "expire": EXPIRED,
    },
    PENDING: {
        "confirm": Conflict, "cancel": CANCELLED, "approve": EXECUTED, "reject": REJECTED,
        "expire": EXPIRED,
    },
}  # fmt: skip
FINAL = {"confirm": Conflict, "cancel": Conflict, "approve": Conflict, "reject": Conflict}
TABLE: dict[str, dict[str, object]] = {
    **OPEN,
    **{status: {**FINAL, "expire": status} for status in PAYMENT_STATUSES if status not in OPEN},
}
CASES = [(start, action, TABLE[start][action]) for start in PAYMENT_STATUSES for action in ACTIONS]


def _in_status(status: str, customer: User, approver: User, source: Account) -> Payment:
    if status == FAILED:  # its hold keeps the funds: a frozen account makes it fail
        payment = make_payment(customer, source)
        _set_status(source, "frozen")
        failed = approvals.approve(payment.id, actor=approver)
        _set_status(source, "active")
        return failed
    payment = make_payment(customer, source, confirm=status != AWAITING)
    if status == EXECUTED:
        return approvals.approve(payment.id, actor=approver)
    if status == REJECTED:
        return approvals.reject(payment.id, actor=approver, reason="No")
    if status == CANCELLED:
        return payment_requests.cancel(payment.id, actor=customer)
    if status == EXPIRED:
        _expire(payment)
    return payment


def _set_status(account: Account, status: str) -> None:
    db.session.execute(sa.update(Account).where(Account.id == account.id).values(status=status))
    db.session.commit()


def _expire(payment: Payment) -> None:
    backdate_expiry(payment)
    expiry.expire_due()


def _act(action: str, payment: Payment, customer: User, approver: User) -> Callable[[], object]:
    pid = payment.id
    return {
        "confirm": lambda: payment_requests.confirm(
            pid, actor=customer, code=otp.issue(customer, otp.PAYMENT_CONFIRM, str(pid))
        ),
        "cancel": lambda: payment_requests.cancel(pid, actor=customer),
        "approve": lambda: approvals.approve(pid, actor=approver),
        "reject": lambda: approvals.reject(pid, actor=approver, reason="Not today"),
        "expire": lambda: _expire(payment),
    }[action]


def test_the_table_covers_every_status_and_action() -> None:
    assert len(CASES) == len(PAYMENT_STATUSES) * len(ACTIONS)


@pytest.mark.parametrize(("start", "action", "expected"), CASES)
def test_transition(
    customer_user: User,
    approver: User,
    source: Account,
    start: str,
    action: str,
    expected: object,
) -> None:
    payment = _in_status(start, customer_user, approver, source)
    assert db.session.get(Payment, payment.id).status == start  # type: ignore[union-attr]
    transactions_before = count_rows(Transaction)
    run = _act(action, payment, customer_user, approver)
    if isinstance(expected, type):
        with pytest.raises(expected):
            run()
        db.session.rollback()
        expected = start
    else:
        run()
    fresh = db.session.scalar(
        sa.select(Payment).where(Payment.id == payment.id).execution_options(populate_existing=True)
    )
    assert fresh is not None
    assert fresh.status == expected
    posted = count_rows(Transaction)
    assert posted == transactions_before + (1 if expected == EXECUTED and start != EXECUTED else 0)
    assert (fresh.transaction_id is not None) == (expected == EXECUTED)
