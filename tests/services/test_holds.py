"""Holds without HTTP: place, capture (all or part), release, expire; available balance;
payments' holds; staff's hold change requests; verify-ledger's hold checks."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from tests.helpers import balance
from tests.services.change_actions.support import ask, decide
from tests.services.payments.factories import backdate_expiry, make_payment
from vaulta.extensions import db
from vaulta.models import Account, AuditEvent, Hold, OutboxEvent, Transaction, User, utcnow
from vaulta.services import ledger
from vaulta.services.banking import accounts, limits
from vaulta.services.changes import change_requests
from vaulta.services.errors import Conflict, InsufficientFunds, InvalidInput, NotFound
from vaulta.services.ledger import hold_queries, holds
from vaulta.services.ledger.checks import verify_ledger
from vaulta.services.payments import approvals, expiry, payment_requests
from vaulta.services.unit_of_work import write_transaction


def _account(balance_minor: int = 10_000) -> Account:
    accounts.system_account("EUR")
    return factories.make_account(factories.make_customer(), "EUR", balance_minor)


def _fresh(account_id: int) -> Account:
    db.session.rollback()
    found = db.session.get(Account, account_id, populate_existing=True)
    assert found is not None
    return found


def _hold(hold_id: int) -> Hold:
    db.session.rollback()
    found = db.session.get(Hold, hold_id, populate_existing=True)
    assert found is not None
    return found


def _events(type_prefix: str) -> list[str]:
    types = db.session.scalars(sa.select(OutboxEvent.type).order_by(OutboxEvent.id))
    return [t for t in types if t.startswith(type_prefix)]


def _later(hours: int = 24):  # type: ignore[no-untyped-def]
    return utcnow() + timedelta(hours=hours)


def test_a_hold_reduces_the_available_balance_not_the_balance(admin: User) -> None:
    account = _account(10_000)
    hold_id = holds.place(account.id, 3_000, reason="Card", expires_at=_later(), actor=admin)
    fresh = _fresh(account.id)
    assert (fresh.balance_minor, fresh.held_minor, fresh.available_minor) == (10_000, 3_000, 7_000)
    assert [row.id for row in hold_queries.holds_of_account(account.id)] == [hold_id]
    assert _events("hold.") == ["hold.placed"]
    assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.object_type == "hold"))
    assert verify_ledger() == []


def test_holds_and_debits_never_exceed_the_available_balance(admin: User) -> None:
    account = _account(10_000)
    holds.place(account.id, 6_000, reason="First", expires_at=_later(), actor=admin)
    with pytest.raises(InsufficientFunds):
        holds.place(account.id, 5_000, reason="Second", expires_at=_later(), actor=admin)
    with pytest.raises(InsufficientFunds):
        ledger.withdraw(_fresh(account.id), 4_001, actor=admin, description="cash")
    ledger.withdraw(_fresh(account.id), 4_000, actor=admin, description="cash")
    assert _fresh(account.id).available_minor == 0
    assert verify_ledger() == []


@pytest.mark.parametrize(
    ("amount", "reason", "expires_in", "field"),
    [
        (0, "x", 1, "amount_minor"),
        (-5, "x", 1, "amount_minor"),
        (100, "  ", 1, "reason"),
        (100, "x" * 201, 1, "reason"),
        (100, "x", -1, "expires_at"),
    ],
)
def test_bad_holds_are_refused(
    admin: User, amount: int, reason: str, expires_in: int, field: str
) -> None:
    account = _account()
    with pytest.raises(InvalidInput) as err:
        holds.place(account.id, amount, reason=reason, expires_at=_later(expires_in), actor=admin)
    assert err.value.field == field
    with pytest.raises(NotFound):
        holds.place(10**9, 100, reason="x", expires_at=_later(), actor=admin)


def test_full_capture_posts_the_held_amount(admin: User) -> None:
    account = _account(10_000)
    hold_id = holds.place(account.id, 2_500, reason="Fee", expires_at=_later(), actor=admin)
    amount, tx_id = holds.capture(hold_id, actor=admin)
    assert amount == 2_500
    fresh = _fresh(account.id)
    assert (fresh.balance_minor, fresh.held_minor) == (7_500, 0)
    hold = _hold(hold_id)
    assert (hold.status, hold.captured_minor, hold.transaction_id) == ("captured", 2_500, tx_id)
    tx = db.session.get(Transaction, tx_id)
    assert tx is not None
    assert (tx.debit_account_id, tx.amount_minor) == (account.id, 2_500)
    assert _events("hold.") == ["hold.placed", "hold.captured"]
    with pytest.raises(Conflict):
        holds.capture(hold_id, actor=admin)
    assert verify_ledger() == []


def test_partial_capture_releases_the_rest(admin: User) -> None:
    account = _account(10_000)
    hold_id = holds.place(account.id, 4_000, reason="Hotel", expires_at=_later(), actor=admin)
    with pytest.raises(InvalidInput):
        holds.capture(hold_id, 4_001, actor=admin)
    holds.capture(hold_id, 1_500, actor=admin)
    fresh = _fresh(account.id)
    assert (fresh.balance_minor, fresh.held_minor, fresh.available_minor) == (8_500, 0, 8_500)
    assert _hold(hold_id).captured_minor == 1_500
    assert verify_ledger() == []


def test_a_capture_may_use_what_it_held_even_when_nothing_else_is_free(admin: User) -> None:
    account = _account(5_000)
    hold_id = holds.place(account.id, 5_000, reason="All", expires_at=_later(), actor=admin)
    holds.capture(hold_id, actor=admin)
    assert balance(account.id, fresh=True) == 0


def test_release_and_expiry_free_the_amount(admin: User) -> None:
    account = _account(10_000)
    released = holds.place(account.id, 1_000, reason="A", expires_at=_later(), actor=admin)
    expiring = holds.place(account.id, 2_000, reason="B", expires_at=_later(1), actor=admin)
    assert holds.release(released, actor=admin) == 1_000
    with pytest.raises(Conflict):
        holds.release(released, actor=admin)
    assert holds.expire_due(now=utcnow()) == 0
    assert holds.expire_due(now=_later(2)) == 1
    assert (_hold(released).status, _hold(expiring).status) == ("released", "expired")
    assert _fresh(account.id).held_minor == 0
    assert _events("hold.") == ["hold.placed", "hold.placed", "hold.released", "hold.expired"]
    assert verify_ledger() == []


def test_verify_ledger_finds_an_overdue_hold_and_a_wrong_held_total(admin: User) -> None:
    account = _account(10_000)
    hold_id = holds.place(account.id, 1_000, reason="A", expires_at=_later(1), actor=admin)
    db.session.execute(
        sa.update(Hold).where(Hold.id == hold_id).values(expires_at=utcnow() - timedelta(hours=1))
    )
    db.session.execute(sa.update(Account).where(Account.id == account.id).values(held_minor=5))
    db.session.commit()
    problems = verify_ledger()
    assert any(f"hold {hold_id}: still active" in p for p in problems)
    assert any("stored held 5 != active holds 1000" in p for p in problems)


def test_a_confirmed_payment_holds_its_amount_and_approval_captures_it(
    customer_user: User, approver: User
) -> None:
    accounts.system_account("EUR")
    source = factories.make_account(factories.customer_of(customer_user), "EUR", 10_000)
    payment = make_payment(customer_user, source, amount="60.00")
    assert _fresh(source.id).held_minor == 6_000
    with pytest.raises(InsufficientFunds):  # a second one that the first leaves uncovered
        make_payment(customer_user, source, amount="50.00")
    assert verify_ledger() == []
    approvals.approve(payment.id, actor=approver)
    fresh = _fresh(source.id)
    assert (fresh.balance_minor, fresh.held_minor) == (4_000, 0)
    hold = db.session.scalar(sa.select(Hold).where(Hold.payment_id == payment.id))
    assert hold is not None
    assert hold.status == "captured"
    assert hold.transaction_id is not None
    assert verify_ledger() == []


def test_rejected_cancelled_and_expired_payments_release_their_holds(
    customer_user: User, approver: User
) -> None:
    accounts.system_account("EUR")
    source = factories.make_account(factories.customer_of(customer_user), "EUR", 10_000)
    rejected = make_payment(customer_user, source, amount="10.00")
    cancelled = make_payment(customer_user, source, amount="20.00")
    expired = make_payment(customer_user, source, amount="30.00")
    assert _fresh(source.id).held_minor == 6_000
    approvals.reject(rejected.id, actor=approver, reason="No")
    payment_requests.cancel(cancelled.id, actor=customer_user)
    backdate_expiry(expired)
    assert expiry.expire_due() == 1
    assert _fresh(source.id).held_minor == 0
    statuses = dict(db.session.execute(sa.select(Hold.payment_id, Hold.status)).all())
    assert statuses == {rejected.id: "released", cancelled.id: "released", expired.id: "expired"}
    assert verify_ledger() == []


def test_a_payment_that_fails_releases_its_hold(customer_user: User, approver: User) -> None:
    accounts.system_account("EUR")
    source = factories.make_account(factories.customer_of(customer_user), "EUR", 10_000)
    payment = make_payment(customer_user, source, amount="60.00")
    db.session.execute(sa.update(Account).where(Account.id == source.id).values(status="frozen"))
    db.session.commit()
    assert approvals.approve(payment.id, actor=approver).status == "failed"
    assert _fresh(source.id).held_minor == 0
    assert verify_ledger() == []


def test_a_payments_hold_ends_only_with_the_payment(customer_user: User, admin: User) -> None:
    accounts.system_account("EUR")
    source = factories.make_account(factories.customer_of(customer_user), "EUR", 10_000)
    payment = make_payment(customer_user, source, amount="10.00")
    hold_id = db.session.scalar(sa.select(Hold.id).where(Hold.payment_id == payment.id))
    assert hold_id is not None
    with pytest.raises(Conflict):
        holds.release(hold_id, actor=admin)
    with pytest.raises(Conflict):
        holds.capture(hold_id, actor=admin)


def test_staff_place_capture_and_release_through_change_requests(
    teller: User, approver: User
) -> None:
    account = _account(10_000)
    expires = _later().isoformat()
    placed = ask(teller, "ledger.hold.place", account_id=account.id, amount_minor=3_000,
                 reason="Court order", expires_at=expires)  # fmt: skip
    assert placed.is_pending
    assert _fresh(account.id).held_minor == 0
    placed = decide(placed, approver)
    hold_id = placed.result["hold_id"]
    assert _fresh(account.id).held_minor == 3_000
    captured = decide(ask(teller, "ledger.hold.capture", hold_id=hold_id, amount_minor=1_000),
                      approver)  # fmt: skip
    assert captured.result["captured_minor"] == 1_000
    assert (_fresh(account.id).balance_minor, _fresh(account.id).held_minor) == (9_000, 0)
    other = decide(ask(teller, "ledger.hold.place", account_id=account.id, amount_minor=500,
                       reason="Check", expires_at=expires), approver)  # fmt: skip
    decide(ask(teller, "ledger.hold.release", hold_id=other.result["hold_id"]), approver)
    assert _hold(other.result["hold_id"]).status == "released"
    with pytest.raises(Conflict):
        ask(teller, "ledger.hold.release", hold_id=hold_id)
    with pytest.raises(InvalidInput):
        ask(teller, "ledger.hold.place", account_id=account.id, amount_minor=1,
            reason="x", expires_at="tomorrow")  # fmt: skip
    assert verify_ledger() == []


def test_a_hold_request_is_rechecked_when_decided(teller: User, approver: User) -> None:
    account = _account(10_000)
    request = ask(teller, "ledger.hold.place", account_id=account.id, amount_minor=8_000,
                  reason="Audit", expires_at=_later().isoformat())  # fmt: skip
    holds.place(account.id, 5_000, reason="Meanwhile", expires_at=_later(), actor=approver)
    decided = decide(request, approver)
    assert decided.status == "failed"
    assert _fresh(account.id).held_minor == 5_000
    assert change_requests.get(request.id).status == "failed"


def test_an_overdraft_limit_cannot_drop_below_what_holds_reserve(admin: User) -> None:
    """Lowering the limit once a hold used it left the available balance below zero and
    the hold uncapturable (found while extending test_ledger_state_machine.py to holds)."""
    account = _account(10_000)
    with write_transaction() as s:
        limits.set_overdraft_in(s, account.id, 5_000, actor=admin)
    hold_id = holds.place(account.id, 14_000, reason="Card", expires_at=_later(), actor=admin)
    with pytest.raises(Conflict), write_transaction() as s:
        limits.set_overdraft_in(s, account.id, 0, actor=admin)
    fresh = _fresh(account.id)
    assert (fresh.overdraft_limit_minor, fresh.available_minor) == (5_000, 1_000)
    holds.capture(hold_id, actor=admin)
    assert balance(account.id, fresh=True) == -4_000
    assert verify_ledger() == []
