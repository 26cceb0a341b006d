"""Payments consult the approval policies when they reach the approval stage: the payment
that brings a customer's 24-hour total to 10,000.00 (and every one after it) needs two
approvers, the second with a step-up code, and is never approved in bulk (split payments
included); the ones before it stayed under the limit when they were made."""

from __future__ import annotations

import pytest

from tests import factories
from tests.helpers import balance, mailed_code
from tests.services.payments.factories import make_payment
from vaulta.models import Account, User
from vaulta.services.payments import approvals, bulk_decisions, payment_policy

SUBJECT = "VAULTA approval code for payment #{id}"


def test_split_payments_reaching_the_daily_total_need_two_approvers_from_then_on(
    customer_user: User, approver: User, second_approver: User, target: Account
) -> None:
    rich = factories.make_account(factories.customer_of(customer_user), "EUR", 2_000_000)
    small = make_payment(customer_user, rich, to=target, amount="10.00")
    assert bulk_decisions.decide_many([small.id], actor=approver, action="approve")[0].ok
    ids = [
        make_payment(customer_user, rich, to=target, amount="2499.99", reference=f"Part {i}").id
        for i in range(4)
    ]
    results = bulk_decisions.decide_many(ids, actor=approver, action="approve")
    # 10.00 + 3 x 2,499.99 stays under 10,000.00; the fourth part reaches it.
    assert [r.ok for r in results] == [True, True, True, False]
    assert results[3].message == bulk_decisions.ON_ITS_OWN
    assert balance(rich) == 2_000_000 - 1_000 - 3 * 249_999
    policy = payment_policy.for_payment(ids[3])
    assert policy is not None
    assert policy.outcome.levels == 2
    assert approvals.approve(ids[3], actor=approver).status == "pending_approval"
    with pytest.raises(approvals.StepUpRequired):
        approvals.approve(ids[3], actor=second_approver)
    code = mailed_code(second_approver.email, SUBJECT.format(id=ids[3]))
    done = approvals.approve(ids[3], actor=second_approver, otp_code=code)
    assert done.status == "executed"


def test_payments_under_the_daily_total_keep_their_flow(
    customer_user: User, approver: User, target: Account
) -> None:
    rich = factories.make_account(factories.customer_of(customer_user), "EUR", 2_000_000)
    ids = [make_payment(customer_user, rich, to=target, amount="2000.00").id for _ in range(2)]
    results = bulk_decisions.decide_many(ids, actor=approver, action="approve")
    assert all(r.ok for r in results)
    assert not approvals.needs_step_up(make_payment(customer_user, rich, to=target))
