"""Payments consult the approval policies: a customer's payments reaching 10,000.00 in 24
hours need a step-up code each and are never approved in bulk (split payments included)."""

from __future__ import annotations

import pytest

from tests import factories
from tests.helpers import balance, mailed_code
from tests.services.payments.factories import make_payment
from vaulta.models import Account, User
from vaulta.services.payments import approvals, bulk_decisions, payment_policy

SUBJECT = "VAULTA approval code for payment #{id}"


def test_split_payments_reaching_the_daily_total_each_need_a_code(
    customer_user: User, approver: User, target: Account
) -> None:
    rich = factories.make_account(factories.customer_of(customer_user), "EUR", 2_000_000)
    small = make_payment(customer_user, rich, to=target, amount="10.00")
    assert bulk_decisions.decide_many([small.id], actor=approver, action="approve")[0].ok
    ids = [
        make_payment(customer_user, rich, to=target, amount="2499.99", reference=f"Part {i}").id
        for i in range(4)
    ]
    results = bulk_decisions.decide_many(ids, actor=approver, action="approve")
    assert [r.ok for r in results] == [False] * 4
    assert all(r.message == bulk_decisions.ON_ITS_OWN for r in results)
    assert balance(rich) == 2_000_000 - 1_000
    policy = payment_policy.for_payment(ids[0])
    assert policy is not None
    assert policy.needs_step_up
    with pytest.raises(approvals.StepUpRequired):
        approvals.approve(ids[0], actor=approver)
    code = mailed_code(approver.email, SUBJECT.format(id=ids[0]))
    assert approvals.approve(ids[0], actor=approver, otp_code=code).status == "executed"


def test_payments_under_the_daily_total_keep_their_flow(
    customer_user: User, approver: User, target: Account
) -> None:
    rich = factories.make_account(factories.customer_of(customer_user), "EUR", 2_000_000)
    ids = [make_payment(customer_user, rich, to=target, amount="2000.00").id for _ in range(2)]
    results = bulk_decisions.decide_many(ids, actor=approver, action="approve")
    assert all(r.ok for r in results)
    assert not approvals.needs_step_up(make_payment(customer_user, rich, to=target))
