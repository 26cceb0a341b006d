"""The ledger's limits and blocks: a customer account may go down to minus its overdraft
limit and no further (``check_debit``, and ``ck_accounts_within_overdraft`` below it); a
debit-blocked account sends nothing, a credit-blocked one receives nothing, each still works
the other way; payments meet the same rules when made (services, both databases)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.helpers import balance
from tests.services.payments.factories import make_payment
from vaulta.extensions import db
from vaulta.models import Account, User, utcnow
from vaulta.services import ledger
from vaulta.services.banking import accounts, limits
from vaulta.services.errors import AccountNotAvailable, Conflict, InsufficientFunds, InvalidInput
from vaulta.services.ledger import Leg, holds, post_entry
from vaulta.services.ledger.checks import verify_ledger
from vaulta.services.unit_of_work import write_transaction


def _set(account: Account, **values: object) -> None:
    db.session.execute(sa.update(Account).where(Account.id == account.id).values(**values))
    db.session.commit()


def test_an_overdraft_lets_the_balance_go_down_to_minus_the_limit(app: Flask, admin: User) -> None:
    account = factories.make_account(factories.make_customer(), "EUR", 1_000)
    _set(account, overdraft_limit_minor=5_000)
    ledger.withdraw(account, 6_000, actor=admin, description="Cash")
    assert balance(account) == -5_000
    with pytest.raises(InsufficientFunds, match=r"overdraft limit 50\.00 EUR"):
        ledger.withdraw(account, 1, actor=admin, description="One cent more")
    assert balance(account) == -5_000
    assert verify_ledger() == []


def test_without_a_limit_a_customer_account_stays_at_zero_or_above(app: Flask, admin: User) -> None:
    account = factories.make_account(factories.make_customer(), "EUR", 1_000)
    with pytest.raises(InsufficientFunds, match="the available balance of"):
        ledger.withdraw(account, 1_001, actor=admin, description="Too much")


def test_the_database_refuses_a_balance_below_minus_the_limit(app: Flask) -> None:
    account = factories.make_account(factories.make_customer(), "EUR")
    _set(account, overdraft_limit_minor=100)
    _set(account, balance_minor=-100)
    with pytest.raises(sa.exc.IntegrityError):
        _set(account, balance_minor=-101)
    db.session.rollback()
    with pytest.raises(sa.exc.IntegrityError):  # system accounts never have a limit
        _set(accounts.system_account("EUR"), overdraft_limit_minor=1)
    db.session.rollback()


def test_a_multi_leg_entry_uses_the_overdraft_too(app: Flask, admin: User) -> None:
    payer = factories.make_account(factories.make_customer(), "EUR", 0)
    payee = factories.make_account(factories.make_customer(), "EUR")
    _set(payer, overdraft_limit_minor=2_000)

    def pay(amount: int) -> None:
        with write_transaction() as s:
            post_entry(
                s,
                [Leg(payer.id, -amount), Leg(payee.id, amount)],
                kind="transfer",
                description="On credit",
                actor_id=admin.id,
                from_account_id=payer.id,
                to_account_id=payee.id,
                principal_minor=amount,
            )

    pay(2_000)
    with pytest.raises(InsufficientFunds):
        pay(1)
    assert (balance(payer), balance(payee)) == (-2_000, 2_000)


def test_a_debit_blocked_account_receives_but_sends_nothing(app: Flask, admin: User) -> None:
    account = factories.make_account(factories.make_customer(), "EUR", 5_000)
    other = factories.make_account(factories.make_customer(), "EUR", 5_000)
    _set(account, status="debit_blocked")
    with pytest.raises(AccountNotAvailable, match="debit-blocked"):
        ledger.withdraw(account, 100, actor=admin, description="Out")
    with pytest.raises(AccountNotAvailable, match="debit-blocked"):
        ledger.transfer(account, other, 100, actor=admin, description="Out")
    ledger.deposit(account, 100, actor=admin, description="In")
    ledger.transfer(other, account, 100, actor=admin, description="In")
    assert balance(account) == 5_200


def test_a_credit_blocked_account_sends_but_receives_nothing(app: Flask, admin: User) -> None:
    account = factories.make_account(factories.make_customer(), "EUR", 5_000)
    other = factories.make_account(factories.make_customer(), "EUR", 5_000)
    _set(account, status="credit_blocked")
    with pytest.raises(AccountNotAvailable, match="credit-blocked"):
        ledger.deposit(account, 100, actor=admin, description="In")
    with pytest.raises(AccountNotAvailable, match="credit-blocked"):
        ledger.transfer(other, account, 100, actor=admin, description="In")
    ledger.withdraw(account, 100, actor=admin, description="Out")
    ledger.transfer(account, other, 100, actor=admin, description="Out")
    assert balance(account) == 4_800


def test_payments_meet_the_blocks_when_made(
    customer_user: User, source: Account, target: Account
) -> None:
    _set(target, status="credit_blocked")
    with pytest.raises(InvalidInput) as err:
        make_payment(customer_user, source, to=target)
    assert err.value.field == "to_account"
    _set(target, status="debit_blocked")
    make_payment(customer_user, source, to=target)  # it may receive
    _set(source, status="debit_blocked")
    with pytest.raises(InvalidInput, match="debit-blocked") as err:
        make_payment(customer_user, source, to=target)
    assert err.value.field == "from_account"


def test_a_payment_may_use_the_overdraft(
    customer_user: User, approver: User, source: Account, target: Account
) -> None:
    from vaulta.services.payments import approvals

    _set(source, overdraft_limit_minor=50_000)
    payment = make_payment(customer_user, source, to=target, amount="1500.00")
    assert approvals.approve(payment.id, actor=approver).status == "executed"
    assert balance(source) == 100_000 - 150_000


def test_verify_ledger_reports_overdrawn_accounts_and_system_limits(app: Flask) -> None:
    """The database refuses both; with its checks switched off for one transaction (rolled
    back), the verifier still sees them."""
    from vaulta.services.ledger.checks import ledger_problems

    account = factories.make_account(factories.make_customer(), "EUR")
    system = accounts.system_account("EUR")
    conn = db.session.connection()
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        conn.exec_driver_sql("PRAGMA ignore_check_constraints = ON")
    else:
        for name in ("ck_accounts_within_overdraft", "ck_accounts_overdraft_limit_valid"):
            conn.exec_driver_sql(f"ALTER TABLE accounts DROP CONSTRAINT {name}")
    try:
        conn.execute(
            sa.update(Account)
            .where(Account.id == account.id)
            .values(overdraft_limit_minor=10, balance_minor=-11)
        )
        conn.execute(
            sa.update(Account).where(Account.id == system.id).values(overdraft_limit_minor=5)
        )
        problems = ledger_problems(conn)
    finally:
        db.session.rollback()
        if sqlite:
            db.session.connection().exec_driver_sql("PRAGMA ignore_check_constraints = OFF")
            db.session.commit()
    assert f"account {account.number}: customer balance is below minus its overdraft limit" in (
        problems
    )
    assert f"account {system.number}: only customer accounts may have an overdraft limit" in (
        problems
    )


def test_an_overdraft_limit_cannot_drop_below_what_holds_reserve(app: Flask, admin: User) -> None:
    account = factories.make_account(factories.make_customer(), "EUR", 1_000)
    _set(account, overdraft_limit_minor=5_000)
    holds.place(
        account.id, 4_000, reason="Card", expires_at=utcnow() + timedelta(days=1), actor=admin
    )
    refused = r"40\.00 EUR held: the limit cannot be lower than 30\.00"
    with pytest.raises(Conflict, match=refused), write_transaction() as s:
        limits.set_overdraft_in(s, account.id, 2_999, actor=admin)
    with write_transaction() as s:
        limits.set_overdraft_in(s, account.id, 3_000, actor=admin)
    db.session.expire_all()
    refreshed = db.session.get(Account, account.id)
    assert refreshed is not None
    assert (refreshed.overdraft_limit_minor, refreshed.available_minor) == (3_000, 0)
    assert verify_ledger() == []
