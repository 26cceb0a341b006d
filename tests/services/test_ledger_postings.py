"""Ledger v2 without HTTP: every entry's postings, value dates, multi-leg entries
(``post_entry``), the one funds check (``check_debit``) and verify-ledger's new checks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.helpers import balance, count_rows
from vaulta.extensions import db
from vaulta.models import Account, AuditEvent, OutboxEvent, Posting, Transaction, User, utcnow
from vaulta.services import ledger
from vaulta.services.banking import accounts
from vaulta.services.errors import AccountNotAvailable, InsufficientFunds, InvalidInput
from vaulta.services.ledger import Leg, LockedAccount, Move, check_debit, post_entry
from vaulta.services.ledger.checks import verify_ledger
from vaulta.services.unit_of_work import write_transaction


def _postings(tx_id: int) -> list[tuple[int, int, str, date]]:
    rows = db.session.execute(
        sa.select(Posting.account_id, Posting.amount_minor, Posting.currency, Posting.value_date)
        .where(Posting.transaction_id == tx_id)
        .order_by(Posting.account_id)
    ).all()
    db.session.commit()
    return sorted(tuple(r) for r in rows)  # type: ignore[misc]


def test_a_deposit_writes_its_two_postings_on_todays_value_date(app: Flask, admin: User) -> None:
    account = factories.make_account(factories.make_customer(), "EUR")
    system = accounts.system_account("EUR")
    tx = ledger.deposit(account, 10_000, actor=admin, description="Cash in")
    today = utcnow().date()
    assert _postings(tx.id) == sorted(
        [(system.id, -10_000, "EUR", today), (account.id, 10_000, "EUR", today)]
    )
    assert verify_ledger() == []


def test_value_dates_are_written_to_postings(app: Flask, admin: User) -> None:
    a = factories.make_account(factories.make_customer(), "EUR")
    b = factories.make_account(factories.make_customer(), "EUR")
    earlier = utcnow().date() - timedelta(days=3)
    tx = ledger.deposit(a, 5_000, actor=admin, description="Back", value_date=earlier)
    assert {p[3] for p in _postings(tx.id)} == {earlier}
    out = ledger.withdraw(a, 1_000, actor=admin, description="Out", value_date=earlier)
    assert {p[3] for p in _postings(out.id)} == {earlier}
    with write_transaction() as s:
        locked = ledger.lock_accounts(s, a.id, b.id)
        moved = ledger.move(
            s, locked[a.id], locked[b.id], 500, kind="transfer", description="Move",
            actor_id=admin.id, value_date=earlier,
        )  # fmt: skip
    assert _postings(moved) == sorted([(a.id, -500, "EUR", earlier), (b.id, 500, "EUR", earlier)])
    assert verify_ledger() == []


def test_move_many_writes_two_postings_per_movement(app: Flask, admin: User) -> None:
    a = factories.make_account(factories.make_customer(), "EUR", 3_000)
    b = factories.make_account(factories.make_customer(), "EUR")
    with write_transaction() as s:
        locked = ledger.lock_accounts(s, a.id, b.id)
        outcomes = ledger.move_many(
            s,
            locked,
            [
                Move(a.id, b.id, 1_000, "transfer", "one"),
                Move(a.id, b.id, 5_000, "transfer", "too much"),
                Move(b.id, a.id, 200, "transfer", "back"),
            ],
            actor_id=admin.id,
        )
    assert isinstance(outcomes[1], InsufficientFunds)
    first, third = outcomes[0], outcomes[2]
    assert isinstance(first, int)
    assert isinstance(third, int)
    today = utcnow().date()
    assert _postings(first) == sorted([(a.id, -1_000, "EUR", today), (b.id, 1_000, "EUR", today)])
    assert _postings(third) == sorted([(b.id, -200, "EUR", today), (a.id, 200, "EUR", today)])
    assert (balance(a), balance(b)) == (2_200, 800)
    assert verify_ledger() == []


def test_a_three_leg_entry_with_a_fee(app: Flask, admin: User) -> None:
    payer = factories.make_account(factories.make_customer(), "EUR", 10_000)
    payee = factories.make_account(factories.make_customer(), "EUR")
    bank = accounts.system_account("EUR")
    bank_before = balance(bank)
    value_day = utcnow().date() - timedelta(days=1)
    with write_transaction() as s:
        tx_id = post_entry(
            s,
            [Leg(payer.id, -5_150), Leg(payee.id, 5_000), Leg(bank.id, 150)],
            kind="payment",
            description="Invoice 7 with fee",
            actor_id=admin.id,
            reference="INV-7",
            value_date=value_day,
            from_account_id=payer.id,
            to_account_id=payee.id,
            principal_minor=5_000,
        )
    assert (balance(payer), balance(payee), balance(bank)) == (4_850, 5_000, bank_before + 150)
    tx = db.session.get(Transaction, tx_id)
    assert tx is not None
    assert (tx.debit_account_id, tx.credit_account_id, tx.amount_minor, tx.currency) == (
        payer.id,
        payee.id,
        5_000,
        "EUR",
    )
    assert (tx.kind, tx.reference, tx.created_by_id) == ("payment", "INV-7", admin.id)
    assert _postings(tx_id) == sorted(
        [
            (payer.id, -5_150, "EUR", value_day),
            (payee.id, 5_000, "EUR", value_day),
            (bank.id, 150, "EUR", value_day),
        ]
    )
    event = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.object_type == "transaction", AuditEvent.object_id == str(tx_id)
        )
    ).one()
    assert event.action == "transaction.payment"
    assert event.actor_id == admin.id
    assert len(event.details["legs"]) == 3
    posted = db.session.scalars(
        sa.select(OutboxEvent).where(OutboxEvent.type == "transaction.posted")
    ).all()
    assert posted[-1].payload["id"] == tx_id
    assert posted[-1].payload["amount_minor"] == 5_000
    assert verify_ledger() == []


def test_a_four_leg_entry_balances_per_currency(app: Flask, admin: User) -> None:
    customer = factories.make_customer()
    eur = factories.make_account(customer, "EUR", 10_000)
    usd = factories.make_account(customer, "USD")
    eur_bank, usd_bank = accounts.system_account("EUR"), accounts.system_account("USD")
    with write_transaction() as s:
        tx_id = post_entry(
            s,
            [
                Leg(eur.id, -1_000),
                Leg(eur_bank.id, 1_000),
                Leg(usd_bank.id, -1_080),
                Leg(usd.id, 1_080),
            ],
            kind="transfer",
            description="EUR to USD",
            actor_id=admin.id,
            from_account_id=eur.id,
            to_account_id=usd.id,
            principal_minor=1_000,
        )
    assert (balance(eur), balance(usd)) == (9_000, 1_080)
    assert len(_postings(tx_id)) == 4
    assert verify_ledger() == []


def _refused(legs: list[Leg], from_id: int, to_id: int, principal: int, admin: User) -> None:
    with write_transaction() as s:
        post_entry(
            s,
            legs,
            kind="transfer",
            description="Refused",
            actor_id=admin.id,
            from_account_id=from_id,
            to_account_id=to_id,
            principal_minor=principal,
        )


@pytest.mark.parametrize(
    ("case", "error", "message"),
    [
        ("unbalanced", InvalidInput, "does not balance in EUR"),
        ("one leg", InvalidInput, "at least two legs"),
        ("currency mismatch", InvalidInput, "does not balance in EUR"),
        ("insufficient funds", InsufficientFunds, "Insufficient funds"),
        ("zero leg", InvalidInput, "non-zero"),
        ("outside the legs", InvalidInput, "among its legs"),
        ("frozen", AccountNotAvailable, "is frozen"),
    ],
)
def test_post_entry_refusals_write_nothing(
    app: Flask, admin: User, case: str, error: type[Exception], message: str
) -> None:
    customer = factories.make_customer()
    a = factories.make_account(customer, "EUR", 1_000)
    b = factories.make_account(factories.make_customer(), "EUR")
    usd = factories.make_account(customer, "USD")
    legs, from_id, to_id = {
        "unbalanced": ([Leg(a.id, -500), Leg(b.id, 400)], a.id, b.id),
        "one leg": ([Leg(a.id, -500)], a.id, a.id + 0),
        "currency mismatch": ([Leg(a.id, -500), Leg(usd.id, 500)], a.id, usd.id),
        "insufficient funds": ([Leg(a.id, -1_001), Leg(b.id, 1_001)], a.id, b.id),
        "zero leg": ([Leg(a.id, -500), Leg(b.id, 500), Leg(usd.id, 0)], a.id, b.id),
        "outside the legs": ([Leg(a.id, -500), Leg(b.id, 500)], a.id, usd.id),
        "frozen": ([Leg(a.id, -500), Leg(b.id, 500)], a.id, b.id),
    }[case]
    if case == "one leg":
        to_id = b.id
    if case == "frozen":
        db.session.execute(sa.update(Account).where(Account.id == b.id).values(status="frozen"))
        db.session.commit()
    before = (count_rows(Transaction), count_rows(Posting), count_rows(AuditEvent))
    with pytest.raises(error, match=message):
        _refused(legs, from_id, to_id, 500, admin)
    assert (count_rows(Transaction), count_rows(Posting), count_rows(AuditEvent)) == before
    assert (balance(a, fresh=True), balance(b, fresh=True), balance(usd, fresh=True)) == (
        1_000,
        0,
        0,
    )
    assert verify_ledger() == []


def test_a_failure_after_the_writes_rolls_everything_back(app: Flask, admin: User) -> None:
    a = factories.make_account(factories.make_customer(), "EUR", 1_000)
    b = factories.make_account(factories.make_customer(), "EUR")
    before = (count_rows(Transaction), count_rows(Posting))

    def explode(_tx_id: int) -> dict[str, object]:
        raise RuntimeError("the caller's own write failed")

    with pytest.raises(RuntimeError), write_transaction() as s:
        post_entry(
            s,
            [Leg(a.id, -300), Leg(b.id, 300)],
            kind="transfer",
            description="Half done",
            actor_id=admin.id,
            from_account_id=a.id,
            to_account_id=b.id,
            principal_minor=300,
            also_emit=explode,
        )
    assert (count_rows(Transaction), count_rows(Posting)) == before
    assert (balance(a, fresh=True), balance(b, fresh=True)) == (1_000, 0)
    assert verify_ledger() == []


def test_check_debit_is_the_one_funds_check(app: Flask) -> None:
    customer = LockedAccount(1, "000000001", "customer", "EUR", "active", 500)
    check_debit(customer, 500)
    with pytest.raises(InsufficientFunds, match="balance of 000000001 is"):
        check_debit(customer, 501)
    system = LockedAccount(2, "000000002", "system", "EUR", "active", -10)
    check_debit(system, 1_000_000)


def _corrupt(statement: sa.Executable) -> list[str]:
    db.session.execute(statement)
    db.session.commit()
    return verify_ledger()


def test_verify_ledger_finds_an_entry_with_one_posting(app: Flask, admin: User) -> None:
    account = factories.make_account(factories.make_customer(), "EUR")
    tx = ledger.deposit(account, 700, actor=admin, description="In")
    problems = _corrupt(
        sa.delete(Posting).where(Posting.transaction_id == tx.id, Posting.account_id == account.id)
    )
    assert f"transaction {tx.id}: 1 posting(s), not two or more" in problems
    assert f"transaction {tx.id}: its EUR postings sum to -700, not zero" in problems
    assert any("stored balance 700 != sum of postings 0" in p for p in problems)


def test_verify_ledger_finds_a_posting_in_another_currency(app: Flask, admin: User) -> None:
    account = factories.make_account(factories.make_customer(), "EUR")
    tx = ledger.deposit(account, 700, actor=admin, description="In")
    problems = _corrupt(
        sa.update(Posting)
        .where(Posting.transaction_id == tx.id, Posting.account_id == account.id)
        .values(currency="USD")
    )
    assert any(
        f"(transaction {tx.id}): USD on account {account.number} in EUR" in p for p in problems
    )
    assert f"transaction {tx.id}: its USD postings sum to 700, not zero" in problems


def test_reversing_a_multi_leg_entry_reverses_every_leg(app: Flask, admin: User) -> None:
    payer = factories.make_account(factories.make_customer(), "EUR", 10_000)
    payee = factories.make_account(factories.make_customer(), "EUR")
    bank = accounts.system_account("EUR")
    bank_before = balance(bank)
    with write_transaction() as s:
        tx_id = post_entry(
            s,
            [Leg(payer.id, -5_150), Leg(payee.id, 5_000), Leg(bank.id, 150)],
            kind="payment",
            description="Invoice 8 with fee",
            actor_id=admin.id,
            from_account_id=payer.id,
            to_account_id=payee.id,
            principal_minor=5_000,
        )
    reversal = ledger.reverse(tx_id, actor=admin, reason="Sent twice")
    assert reversal.reverses_id == tx_id
    assert (reversal.debit_account_id, reversal.credit_account_id, reversal.amount_minor) == (
        payee.id,
        payer.id,
        5_000,
    )
    today = utcnow().date()
    assert _postings(reversal.id) == sorted(
        [
            (payer.id, 5_150, "EUR", today),
            (payee.id, -5_000, "EUR", today),
            (bank.id, -150, "EUR", today),
        ]
    )
    assert (balance(payer), balance(payee), balance(bank)) == (10_000, 0, bank_before)
    assert verify_ledger() == []
