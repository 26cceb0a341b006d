"""Payments are decided as change requests (action ``payments.payment``) with real levels:
a payment whose policy asks for two approvers needs two different people, the second with a
step-up code; the approval queue, bulk decisions and the checker inbox decide the same
request; a payment and its change request expire together."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories
from tests.helpers import audit_actions, balance, mailed_code
from tests.services.payments.factories import backdate_expiry, make_payment
from vaulta.extensions import db
from vaulta.models import Account, ChangeDecision, ChangeRequest, Payment, User
from vaulta.services.changes import change_requests, policies
from vaulta.services.errors import Conflict
from vaulta.services.ledger.checks import verify_ledger
from vaulta.services.payments import approvals, bulk_decisions, expiry
from vaulta.services.unit_of_work import write_transaction

SUBJECT = "VAULTA approval code for payment #{id}"


def _request_of(payment_id: int) -> ChangeRequest:
    db.session.rollback()
    payment = db.session.get(Payment, payment_id, populate_existing=True)
    assert payment is not None
    assert payment.change_request_id is not None
    request = db.session.get(ChangeRequest, payment.change_request_id, populate_existing=True)
    assert request is not None
    return request


def _rich(customer_user: User) -> Account:
    return factories.make_account(factories.customer_of(customer_user), "EUR", 10_000_000)


def test_a_payment_awaiting_approval_has_its_change_request(
    customer_user: User, target: Account
) -> None:
    rich = _rich(customer_user)
    payment = make_payment(customer_user, rich, to=target, amount="25.00")
    request = _request_of(payment.id)
    assert (request.action, request.target_type, request.target_id) == (
        "payments.payment",
        "payment",
        payment.id,
    )
    assert (request.maker_id, request.amount_minor, request.currency) == (
        customer_user.id,
        2_500,
        "EUR",
    )
    assert request.customer_id == factories.customer_of(customer_user).id
    assert (request.status, request.levels_required, request.levels_approved) == ("pending", 1, 0)
    assert request.dedupe_key == f"payments.payment:{payment.id}"
    assert request.expires_at == db.session.get(Payment, payment.id).expires_at  # type: ignore[union-attr]
    unconfirmed = make_payment(customer_user, rich, to=target, confirm=False)
    assert db.session.get(Payment, unconfirmed.id).change_request_id is None  # type: ignore[union-attr]


def test_twelve_thousand_needs_two_distinct_approvers_the_second_with_a_code(
    customer_user: User, approver: User, second_approver: User, target: Account
) -> None:
    rich = _rich(customer_user)
    payment = make_payment(customer_user, rich, to=target, amount="12000.00")
    first = approvals.approve(payment.id, actor=approver)
    assert first.status == "pending_approval"
    request = _request_of(payment.id)
    assert (request.levels_required, request.levels_approved) == (2, 1)
    assert balance(rich, fresh=True) == 10_000_000
    with pytest.raises(Conflict, match="already decided"):
        approvals.approve(payment.id, actor=approver)  # the same person twice
    with pytest.raises(approvals.StepUpRequired):
        approvals.approve(payment.id, actor=second_approver)
    code = mailed_code(second_approver.email, SUBJECT.format(id=payment.id))
    done = approvals.approve(payment.id, actor=second_approver, otp_code=code)
    assert done.status == "executed"
    request = _request_of(payment.id)
    assert request.status == "approved"
    assert request.result == {"payment_id": payment.id, "transaction_id": done.transaction_id}
    assert db.session.get(Payment, payment.id).transaction_id == done.transaction_id  # type: ignore[union-attr]
    decisions = db.session.scalars(
        sa.select(ChangeDecision)
        .where(ChangeDecision.request_id == request.id)
        .order_by(ChangeDecision.level)
    ).all()
    assert [(d.level, d.decider_id, d.step_up_used) for d in decisions] == [
        (1, approver.id, False),
        (2, second_approver.id, True),
    ]
    assert balance(rich, fresh=True) == 10_000_000 - 1_200_000
    with pytest.raises(Conflict):
        approvals.approve(payment.id, actor=second_approver, otp_code=code)


def test_five_payments_of_9999_99_in_a_day_need_two_approvers_from_the_second(
    customer_user: User, approver: User, second_approver: User, target: Account
) -> None:
    rich = _rich(customer_user)
    ids = [
        make_payment(customer_user, rich, to=target, amount="9999.99", reference=f"Part {i}").id
        for i in range(5)
    ]
    assert [_request_of(pid).levels_required for pid in ids] == [1, 2, 2, 2, 2]
    results = bulk_decisions.decide_many(ids, actor=approver, action="approve")
    assert [r.ok for r in results] == [True, False, False, False, False]
    assert all(r.message == bulk_decisions.ON_ITS_OWN for r in results[1:])
    assert balance(rich, fresh=True) == 10_000_000 - 999_999
    assert approvals.approve(ids[1], actor=approver).status == "pending_approval"
    with pytest.raises(approvals.StepUpRequired):
        approvals.approve(ids[1], actor=second_approver)
    code = mailed_code(second_approver.email, SUBJECT.format(id=ids[1]))
    assert approvals.approve(ids[1], actor=second_approver, otp_code=code).status == "executed"


def test_a_rejection_at_level_two_rejects_the_payment_with_its_reason(
    customer_user: User, approver: User, second_approver: User, target: Account
) -> None:
    payment = make_payment(customer_user, _rich(customer_user), to=target, amount="15000.00")
    approvals.approve(payment.id, actor=approver)
    rejected = approvals.reject(payment.id, actor=second_approver, reason="Unknown beneficiary")
    assert (rejected.status, rejected.rejection_reason) == ("rejected", "Unknown beneficiary")
    request = _request_of(payment.id)
    assert request.status == "rejected"
    assert [d.decision for d in request.decisions] == ["approve", "reject"]


def test_the_inbox_and_the_queue_decide_the_same_request(
    customer_user: User, approver: User, second_approver: User, target: Account
) -> None:
    payment = make_payment(customer_user, _rich(customer_user), to=target, amount="12000.00")
    request = _request_of(payment.id)
    assert change_requests.approve(request.id, actor=approver).levels_approved == 1
    with pytest.raises(Conflict):
        approvals.approve(payment.id, actor=approver)
    with pytest.raises(change_requests.StepUpRequired):
        change_requests.approve(request.id, actor=second_approver)
    code = mailed_code(second_approver.email, SUBJECT.format(id=payment.id))
    decided = change_requests.approve(request.id, actor=second_approver, step_up_code=code)
    assert decided.status == "approved"
    assert db.session.get(Payment, payment.id).status == "executed"  # type: ignore[union-attr]


def test_a_payment_and_its_request_expire_together(
    customer_user: User, approver: User, target: Account
) -> None:
    rich = _rich(customer_user)
    one = make_payment(customer_user, rich, to=target)
    backdate_expiry(one)
    assert expiry.expire_due() == 1
    assert _request_of(one.id).status == "expired"
    other = make_payment(customer_user, rich, to=target)
    backdate_expiry(other)
    db.session.execute(
        sa.update(ChangeRequest)
        .where(ChangeRequest.id == _request_of(other.id).id)
        .values(expires_at=db.session.get(Payment, other.id).expires_at)  # type: ignore[union-attr]
    )
    db.session.commit()
    assert change_requests.expire_due() == 1
    assert db.session.get(Payment, other.id, populate_existing=True).status == "expired"  # type: ignore[union-attr]
    with pytest.raises(Conflict):
        approvals.approve(other.id, actor=approver)


def test_a_payment_pending_before_change_requests_gets_one_when_decided(
    customer_user: User, approver: User, target: Account
) -> None:
    payment = make_payment(customer_user, _rich(customer_user), to=target)
    db.session.execute(
        sa.update(Payment).where(Payment.id == payment.id).values(change_request_id=None)
    )
    db.session.execute(sa.delete(ChangeRequest).where(ChangeRequest.target_id == payment.id))
    db.session.commit()
    assert approvals.approve(payment.id, actor=approver).status == "executed"
    assert _request_of(payment.id).status == "approved"


def test_verify_ledger_finds_a_payment_and_its_request_that_disagree(
    customer_user: User, approver: User, target: Account
) -> None:
    payment = make_payment(customer_user, _rich(customer_user), to=target)
    assert approvals.approve(payment.id, actor=approver).status == "executed"
    assert verify_ledger() == []
    request = _request_of(payment.id)
    db.session.execute(
        sa.update(ChangeRequest).where(ChangeRequest.id == request.id).values(status="rejected")
    )
    db.session.commit()
    assert verify_ledger() == [
        f"change request {request.id}: it is rejected but its payment is executed"
    ]


def test_a_stricter_policy_installed_since_is_adopted_at_the_decision(
    customer_user: User, approver: User, second_approver: User, target: Account
) -> None:
    payment = make_payment(customer_user, _rich(customer_user), to=target, amount="25.00")
    assert _request_of(payment.id).levels_required == 1
    with write_transaction() as s:
        policies.install_version(
            s,
            "default",
            {"levels": 2, "roles_per_level": [["approver"], ["approver"]]},
            created_by_id=None,
        )
    assert approvals.approve(payment.id, actor=approver).status == "pending_approval"
    request = _request_of(payment.id)
    assert (request.levels_required, request.levels_approved) == (2, 1)
    assert "change_request.policy_raised" in audit_actions("change_request", request.id)
    assert approvals.approve(payment.id, actor=second_approver).status == "executed"
