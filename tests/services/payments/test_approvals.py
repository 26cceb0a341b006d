"""Approving and rejecting: execution, failure, four eyes, step-up, bulk, the queue."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.helpers import audit_actions, balance, mailed_code, outbox
from tests.services.payments.factories import backdate_expiry, make_payment
from vaulta.extensions import db
from vaulta.models import Account, Payment, Transaction, User
from vaulta.services.banking import accounts
from vaulta.services.errors import Conflict, Forbidden, InsufficientFunds, InvalidInput
from vaulta.services.ledger.checks import verify_ledger
from vaulta.services.payments import approval_queue, approvals, bulk_decisions
from vaulta.services.payments.approval_queue import QueueFilter


def test_approval_posts_one_payment_transaction(
    customer_user: User, approver: User, source: Account, target: Account
) -> None:
    payment = make_payment(customer_user, source, to=target, amount="250.00")
    done = approvals.approve(payment.id, actor=approver)
    assert done.status == "executed"
    stored = db.session.get(Payment, payment.id)
    assert stored is not None
    assert (stored.status, stored.transaction_id) == ("executed", done.transaction_id)
    assert stored.admin_approved_by == approver.id
    assert stored.approved_at is not None
    tx = db.session.get(Transaction, done.transaction_id)
    assert tx is not None
    assert (tx.kind, tx.reference, tx.amount_minor) == ("payment", f"PAY-{payment.id}", 25_000)
    assert (tx.debit_account_id, tx.credit_account_id) == (source.id, target.id)
    assert (balance(source), balance(target)) == (75_000, 25_000)
    assert audit_actions("payment", payment.id) == [
        "payment.request",
        "payment.confirm",
        "payment.approve",
    ]
    assert verify_ledger() == []


def test_external_beneficiaries_settle_to_the_system_account(
    customer_user: User, approver: User, source: Account
) -> None:
    payment = make_payment(customer_user, source, amount="10.00")
    done = approvals.approve(payment.id, actor=approver)
    tx = db.session.get(Transaction, done.transaction_id)
    assert tx is not None
    assert tx.credit_account_id == accounts.system_account("EUR").id
    assert "Acme Ltd" in tx.description
    assert verify_ledger() == []


def test_a_payment_beyond_the_available_balance_is_refused_at_confirmation(
    customer_user: User, approver: User, source: Account, target: Account
) -> None:
    """Its hold would overdraw the account: refused when confirmed, not at approval."""
    with pytest.raises(InsufficientFunds):
        make_payment(customer_user, source, to=target, amount="1000.01")
    stored = db.session.scalar(sa.select(Payment).order_by(Payment.id.desc()))
    assert stored is not None
    assert (stored.status, stored.transaction_id) == ("awaiting_confirmation", None)
    assert (balance(source), balance(target)) == (100_000, 0)
    assert verify_ledger() == []


def test_a_frozen_beneficiary_fails_the_payment(
    customer_user: User, approver: User, source: Account, target: Account
) -> None:
    payment = make_payment(customer_user, source, to=target)
    db.session.execute(sa.update(Account).where(Account.id == target.id).values(status="frozen"))
    db.session.commit()
    done = approvals.approve(payment.id, actor=approver)
    assert done.status == "failed"
    assert "frozen" in (done.failure_reason or "")


def test_four_eyes_the_approver_who_entered_it_cannot_approve(
    approver: User, second_approver: User, source: Account, target: Account
) -> None:
    payment = make_payment(source.customer.users[0], source, to=target)
    db.session.execute(
        sa.update(Payment)
        .where(Payment.id == payment.id)
        .values(requested_by_id=second_approver.id)
    )
    db.session.commit()
    with pytest.raises(Forbidden, match="Four eyes"):
        approvals.approve(payment.id, actor=second_approver)
    assert approvals.approve(payment.id, actor=approver).status == "executed"


def test_customers_cannot_decide(customer_user: User, source: Account) -> None:
    payment = make_payment(customer_user, source)
    with pytest.raises(Forbidden):
        approvals.approve(payment.id, actor=customer_user)
    with pytest.raises(Forbidden):
        approvals.reject(payment.id, actor=customer_user, reason="mine")


def test_step_up_mails_a_code_and_needs_it(
    app: Flask, customer_user: User, approver: User, source: Account, target: Account
) -> None:
    app.config["APPROVAL_STEP_UP_THRESHOLD_MINOR"] = 50_000
    payment = make_payment(customer_user, source, to=target, amount="500.00")
    with pytest.raises(approvals.StepUpRequired):
        approvals.approve(payment.id, actor=approver)
    assert outbox()[0]["to"] == approver.email
    code = mailed_code(approver.email)
    with pytest.raises(InvalidInput):
        approvals.approve(payment.id, actor=approver, otp_code=f"{(int(code) + 1) % 10**6:06d}")
    assert approvals.approve(payment.id, actor=approver, otp_code=code).status == "executed"


def test_step_up_code_of_another_approver_or_payment_is_refused(
    app: Flask, customer_user: User, approver: User, second_approver: User, source: Account
) -> None:
    admin = second_approver  # the other approver
    app.config["APPROVAL_STEP_UP_THRESHOLD_MINOR"] = 100
    first = make_payment(customer_user, source)
    second = make_payment(customer_user, source)
    with pytest.raises(approvals.StepUpRequired):
        approvals.approve(first.id, actor=admin)
    admins_code = mailed_code(admin.email)
    with pytest.raises(InvalidInput):
        approvals.approve(first.id, actor=approver, otp_code=admins_code)
    with pytest.raises(InvalidInput):
        approvals.approve(second.id, actor=admin, otp_code=admins_code)
    assert approvals.approve(first.id, actor=admin, otp_code=admins_code).status == "executed"


def test_reject_needs_a_reason_the_customer_sees(
    customer_user: User, approver: User, source: Account
) -> None:
    payment = make_payment(customer_user, source)
    with pytest.raises(InvalidInput) as err:
        approvals.reject(payment.id, actor=approver, reason="  ")
    assert err.value.field == "reason"
    done = approvals.reject(payment.id, actor=approver, reason="Unknown beneficiary")
    assert (done.status, done.rejection_reason) == ("rejected", "Unknown beneficiary")
    assert done.decided_by_id == approver.id
    with pytest.raises(Conflict, match="already decided"):
        approvals.approve(payment.id, actor=approver)


def test_an_expired_payment_is_marked_on_access_and_cannot_be_approved(
    customer_user: User, approver: User, source: Account
) -> None:
    payment = make_payment(customer_user, source)
    backdate_expiry(payment)
    with pytest.raises(Conflict, match="expired"):
        approvals.approve(payment.id, actor=approver)
    assert db.session.get(Payment, payment.id).status == "expired"  # type: ignore[union-attr]
    assert "payment.expire" in audit_actions("payment", payment.id)


def test_bulk_reports_each_row(
    app: Flask, customer_user: User, approver: User, source: Account, target: Account
) -> None:
    app.config["APPROVAL_STEP_UP_THRESHOLD_MINOR"] = 60_000
    ok = make_payment(customer_user, source, to=target, amount="10.00")
    big = make_payment(customer_user, source, to=target, amount="600.00")
    frozen = factories.make_account(target.customer, "EUR")  # type: ignore[arg-type]
    poor = make_payment(customer_user, source, to=frozen, amount="300.00")
    db.session.execute(sa.update(Account).where(Account.id == frozen.id).values(status="frozen"))
    db.session.commit()
    decided = make_payment(customer_user, source, to=target, amount="1.00")
    approvals.reject(decided.id, actor=approver, reason="No")
    results = bulk_decisions.decide_many(
        [ok.id, big.id, poor.id, decided.id, ok.id], actor=approver, action="approve"
    )
    assert [(r.payment_id, r.ok) for r in results] == [
        (ok.id, True),
        (big.id, False),
        (poor.id, False),
        (decided.id, False),
    ]
    assert "approval code" in results[1].message
    assert "failed: Account" in results[2].message
    assert "already decided" in results[3].message
    assert outbox() == []  # bulk never mails step-up codes
    rejected = bulk_decisions.decide_many(
        [big.id], actor=approver, action="reject", reason="Too big"
    )
    assert (rejected[0].ok, rejected[0].message) == (True, "rejected")
    assert db.session.get(Payment, big.id).status == "rejected"


def test_queue_filters_sorts_and_counts(
    customer_user: User, approver: User, source: Account, target: Account
) -> None:
    usd = factories.make_account(factories.customer_of(customer_user), "USD", 50_000)
    small = make_payment(customer_user, source, amount="5.00")
    large = make_payment(customer_user, source, amount="300.00")
    dollars = make_payment(customer_user, usd, amount="20.00")
    make_payment(customer_user, source, confirm=False)  # not in the queue yet
    ids = lambda **kw: [p.id for p in approval_queue.pending(QueueFilter(**kw))]  # noqa: E731
    assert ids() == [small.id, large.id, dollars.id]
    assert ids(sort="amount_desc") == [large.id, dollars.id, small.id]
    assert ids(currency="usd") == [dollars.id]
    assert ids(min_amount="10") == [large.id, dollars.id]
    assert ids(max_amount="20.00", sort="newest") == [dollars.id, small.id]
    customer = factories.customer_of(customer_user)
    assert ids(customer=customer.full_name[:5].lower()) == [small.id, large.id, dollars.id]
    assert ids(customer=customer.customer_number) == [small.id, large.id, dollars.id]
    assert ids(customer=usd.number) == [dollars.id]
    assert ids(customer="nobody") == []
    assert approval_queue.pending_count() == 3
    assert approval_queue.pending_count(at_most=2) == 2
    assert approval_queue.pending_count(at_most=5) == 3
    with pytest.raises(InvalidInput):
        ids(min_amount="lots")


def test_queue_amount_filters_use_the_amount_grammar_and_never_round_inwards(
    customer_user: User, source: Account
) -> None:
    ten = make_payment(customer_user, source, amount="10.00")
    ids = lambda **kw: [p.id for p in approval_queue.pending(QueueFilter(**kw))]  # noqa: E731
    assert ids(min_amount="10") == [ten.id]
    assert ids(min_amount="10.001") == []  # at least 10.001: not 10.00 (rounded up)
    assert ids(max_amount="9.999") == []  # at most 9.999: not 10.00 (rounded down)
    assert ids(max_amount="10.004", currency="EUR") == [ten.id]
    assert ids(min_amount="0") == [ten.id]
    for typed in ("12,50", "1,00", "1 000", "\uff11\uff10", "+5", ".5", "1e3"):
        with pytest.raises(InvalidInput, match="Write amounts like") as refused:
            ids(min_amount=typed)
        assert refused.value.field == "min_amount"


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("oldest", lambda p: (p.created_at, p.id)),
        ("newest", lambda p: (-p.created_at.timestamp(), -p.id)),
        ("amount_desc", lambda p: (-p.amount_minor, p.id)),
        ("amount_asc", lambda p: (p.amount_minor, p.id)),
    ],
)
def test_queue_pages_continue_after_the_last_row(
    monkeypatch: pytest.MonkeyPatch, customer_user: User, source: Account, sort: str, key: object
) -> None:
    monkeypatch.setattr(approval_queue, "QUEUE_LIMIT", 2)
    made = [make_payment(customer_user, source, amount=a) for a in ("5.00", "7.00", "5.00", "9.00")]
    expected = [p.id for p in sorted(made, key=key)]  # type: ignore[arg-type]
    seen, after, pages = [], "", 0
    while True:
        rows, next_after = approval_queue.pending_page(QueueFilter(sort=sort, after=after))
        seen += [p.id for p in rows]
        pages += 1
        if next_after is None:
            break
        after = str(next_after)
    assert seen == expected
    assert pages == 2
    first, _next = approval_queue.pending_page(QueueFilter(sort=sort, after="not-a-number"))
    assert [p.id for p in first] == expected[:2]  # an unreadable cursor starts at the beginning
