"""The ledger verifier behind ``flask vaulta verify-ledger``."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm
from sqlalchemy.engine import Connection

from vaulta.models import Account, ChangeRequest, Payment, Posting, Transaction
from vaulta.models.account import KIND_CUSTOMER
from vaulta.models.change_request import CR_APPROVED
from vaulta.models.payment import PAYMENT_EXECUTED
from vaulta.services.ledger.fx.checks import fx_problems
from vaulta.services.ledger.hold_checks import hold_problems
from vaulta.services.unit_of_work import snapshot

# Change requests whose execution is one ledger entry.
LEDGER_ACTIONS = ("ledger.deposit", "ledger.withdrawal", "ledger.reversal", "ledger.conversion")


def verify_ledger() -> list[str]:
    """Every violated invariant of the books, as a sentence; an empty list means all hold.

    All checks read one snapshot, so postings committed meanwhile cannot make them disagree.
    """
    with snapshot() as conn:
        return ledger_problems(conn)


def ledger_problems(s: Connection) -> list[str]:
    """``verify_ledger``'s checks on a given connection, inside its transaction (an upgrade
    verifies the books it has changed before it commits)."""
    problems = posting_problems(s)
    for currency, total in s.execute(
        sa.select(Account.currency, sa.func.sum(Account.balance_minor))
        .group_by(Account.currency)
        .having(sa.func.sum(Account.balance_minor) != 0)
    ):
        problems.append(f"currency {currency}: balances sum to {total}, not zero")
    for (number,) in s.execute(
        sa.select(Account.number).where(
            Account.kind == KIND_CUSTOMER,
            Account.balance_minor < -Account.overdraft_limit_minor,
        )
    ):
        problems.append(f"account {number}: customer balance is below minus its overdraft limit")
    for (number,) in s.execute(
        sa.select(Account.number).where(
            Account.kind != KIND_CUSTOMER, Account.overdraft_limit_minor != 0
        )
    ):
        problems.append(f"account {number}: only customer accounts may have an overdraft limit")
    debit, credit = sa.orm.aliased(Account), sa.orm.aliased(Account)
    for (tx_id,) in s.execute(
        sa.select(Transaction.id)
        .join(debit, debit.id == Transaction.debit_account_id)
        .join(credit, credit.id == Transaction.credit_account_id)
        .where(debit.currency != Transaction.currency)
    ):
        problems.append(f"transaction {tx_id}: currency differs from its from-account's")
    for (payment_id,) in s.execute(
        sa.select(Payment.id).where(
            Payment.status == PAYMENT_EXECUTED, Payment.transaction_id.is_(None)
        )
    ):
        problems.append(f"payment {payment_id}: executed without a transaction")
    for (payment_id,) in s.execute(
        sa.select(Payment.id).where(
            Payment.status != PAYMENT_EXECUTED, Payment.transaction_id.is_not(None)
        )
    ):
        problems.append(f"payment {payment_id}: has a transaction but is not executed")
    return problems + fx_problems(s) + change_request_problems(s) + hold_problems(s)


def posting_problems(s: Connection) -> list[str]:
    """The postings' invariants: every entry has two or more postings that sum to zero
    per currency, each in its account's currency, and every account's stored balance is
    the sum of its postings."""
    problems: list[str] = []
    counts = (
        sa.select(Posting.transaction_id, sa.func.count().label("legs"))
        .group_by(Posting.transaction_id)
        .subquery()
    )
    for tx_id, legs in s.execute(
        sa.select(Transaction.id, sa.func.coalesce(counts.c.legs, 0))
        .outerjoin(counts, counts.c.transaction_id == Transaction.id)
        .where(sa.func.coalesce(counts.c.legs, 0) < 2)
        .order_by(Transaction.id)
    ):
        problems.append(f"transaction {tx_id}: {legs} posting(s), not two or more")
    for tx_id, currency, total in s.execute(
        sa.select(Posting.transaction_id, Posting.currency, sa.func.sum(Posting.amount_minor))
        .group_by(Posting.transaction_id, Posting.currency)
        .having(sa.func.sum(Posting.amount_minor) != 0)
        .order_by(Posting.transaction_id, Posting.currency)
    ):
        problems.append(f"transaction {tx_id}: its {currency} postings sum to {total}, not zero")
    for posting_id, tx_id, currency, number, account_currency in s.execute(
        sa.select(
            Posting.id, Posting.transaction_id, Posting.currency, Account.number, Account.currency
        )
        .join(Account, Account.id == Posting.account_id)
        .where(Posting.currency != Account.currency)
        .order_by(Posting.id)
    ):
        problems.append(
            f"posting {posting_id} (transaction {tx_id}): {currency} on account {number} "
            f"in {account_currency}"
        )
    sums = (
        sa.select(Posting.account_id, sa.func.sum(Posting.amount_minor).label("net"))
        .group_by(Posting.account_id)
        .subquery()
    )
    net = sa.func.coalesce(sums.c.net, 0)
    for number, balance, total in s.execute(
        sa.select(Account.number, Account.balance_minor, net)
        .outerjoin(sums, sums.c.account_id == Account.id)
        .where(Account.balance_minor != net)
        .order_by(Account.id)
    ):
        problems.append(f"account {number}: stored balance {balance} != sum of postings {total}")
    return problems


# The key a change request's posting carries (vaulta/services/changes/ledger_actions.py).
CHANGE_REQUEST_KEY = "change-request-"


def change_request_problems(s: Connection) -> list[str]:
    """Money moves for a change request only once it is approved, and then once: a
    posting keyed to a request that is not approved, or an approved ledger request
    without its posting, is a problem."""
    problems: list[str] = []
    key = sa.literal(CHANGE_REQUEST_KEY) + sa.cast(ChangeRequest.id, sa.String)
    posted = sa.select(Transaction.id).where(Transaction.idempotency_key == key)
    for request_id, status in s.execute(
        sa.select(ChangeRequest.id, ChangeRequest.status)
        .where(ChangeRequest.status != CR_APPROVED, posted.exists())
        .order_by(ChangeRequest.id)
    ):
        problems.append(f"change request {request_id}: money moved but it is {status}")
    for (request_id,) in s.execute(
        sa.select(ChangeRequest.id)
        .where(
            ChangeRequest.status == CR_APPROVED,
            ChangeRequest.action.in_(LEDGER_ACTIONS),
            ~posted.exists(),
        )
        .order_by(ChangeRequest.id)
    ):
        problems.append(f"change request {request_id}: approved without its posting")
    approved = ChangeRequest.status == CR_APPROVED
    executed = Payment.status == PAYMENT_EXECUTED
    for request_id, status, payment_status in s.execute(
        sa.select(ChangeRequest.id, ChangeRequest.status, Payment.status)
        .join(Payment, Payment.change_request_id == ChangeRequest.id)
        .where(sa.or_(sa.and_(approved, ~executed), sa.and_(~approved, executed)))
        .order_by(ChangeRequest.id)
    ):
        problems.append(
            f"change request {request_id}: it is {status} but its payment is {payment_status}"
        )
    return problems
