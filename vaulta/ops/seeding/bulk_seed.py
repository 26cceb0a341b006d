"""Demo data at scale: ``flask vaulta seed-demo --customers N --transactions M``.

The per-row services are far too slow for a million postings, so this module builds the
rows in Python and loads them in ONE database transaction (``bulk_load``). It is the one
writer of balances besides vaulta.services.ledger, and only for rows it creates itself
(plus the net change of the system accounts). The book stays consistent by construction:

* a seeded random walk over the new customer accounts decides every posting (deposits from
  and withdrawals to the currency's system account, transfers between two new accounts in
  the same currency); it never lets a customer balance go below zero;
* the walk runs twice with the same seed: the first pass only computes the final balances,
  so accounts can be inserted with them before their transactions (foreign keys), the
  second pass streams the transaction rows in memory-bounded batches;
* the system accounts receive the net of the deposits and withdrawals at the end;
* each loaded transaction gets its two postings (ledger v2: the debit's negative, the
  credit's positive, on the UTC date it was booked) from one ``INSERT … SELECT`` in the
  database, with the postings' indexes built once afterwards.

Numbers come from ranges the random generators never use (customer ``C0…``, account
bodies below 100,000,000), continuing after the highest one already there, so running it
again adds another batch. One audit event summarises the whole seed.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vaulta.models import Account, Customer, Posting, Transaction, User, utcnow
from vaulta.models.account import ACCOUNT_ACTIVE, KIND_CUSTOMER
from vaulta.models.customer import CUSTOMER_ACTIVE
from vaulta.models.transaction import TX_DEPOSIT, TX_TRANSFER, TX_WITHDRAWAL
from vaulta.ops.seeding import demo
from vaulta.ops.seeding.bulk_load import loading, reserve_ids, write_rows
from vaulta.services import audit
from vaulta.services.banking import accounts
from vaulta.services.banking.identifiers import account_number_from, customer_number_from
from vaulta.services.identity import users
from vaulta.services.unit_of_work import write_transaction

CURRENCIES = ("EUR", "USD")
BATCH_SIZE = 20_000
# Below the ranges of random_customer_number() / random_account_number().
CUSTOMER_SERIAL_LIMIT = 10_000_000
ACCOUNT_BODY_LIMIT = 100_000_000
HISTORY_DAYS = 365

FIRST_NAMES = (  # noqa: SIM905 - a word list reads best as words
    "Alex Sam Robin Kim Jo Noa Mia Liam Emma Lucas Olivia Hugo Lea Finn Zoe Omar Ines Ravi Yuki "
    "Sofia Mateo Ana Jonas Clara Elias Nora Leon Maya Felix Ida Theo Lina Paul Eva Karl Mila"
).split()
LAST_NAMES = (  # noqa: SIM905
    "Smith Garcia Müller Rossi Dubois Novak Jensen Silva Kowalski Nagy Horvat Ivanova Berg "
    "Costa Moreau Fischer Larsen Bianchi Santos Weber Kim Sato Patel Cohen Murphy Nilsson"
).split()
DESCRIPTIONS = {
    TX_DEPOSIT: ("Salary", "Cash deposit", "Refund", "Incoming transfer", "Pension"),
    TX_WITHDRAWAL: ("ATM withdrawal", "Card payment", "Direct debit", "Utility bill", "Rent"),
    TX_TRANSFER: ("Rent share", "Dinner", "Gift", "Invoice", "Loan repayment", "Groceries"),
}

Progress = Callable[[int], None]


@dataclass(frozen=True)
class BulkSeedResult:
    customers: int
    accounts: int
    transactions: int
    rng_seed: int


@dataclass
class _Book:
    """The new accounts of one seed, in id order: owner (customer index), currency index and
    balance of each; and the accounts of each currency."""

    owners: list[int]
    currencies: list[int]
    balances: list[int]
    by_currency: list[list[int]]


def bulk_seed(
    customers: int,
    transactions: int,
    *,
    progress: Progress | None = None,
    rng_seed: int | None = None,
    batch_size: int = BATCH_SIZE,
) -> BulkSeedResult:
    """Add ``customers`` customers (one or two accounts each) and ``transactions`` postings.

    ``progress`` is called with the number of rows just written (customers, then
    transactions: ``customers + transactions`` in all).
    """
    if customers < 1 or transactions < 0:
        raise ValueError("need at least one customer and a non-negative number of transactions")
    advance = progress or _ignore
    seed = secrets.randbits(32) if rng_seed is None else rng_seed
    admin = _admin()
    # Plain ints from here on: touching an expired ORM object while the COPY holds the
    # connection would need the connection again and wait forever.
    admin_id = admin.id
    system = {c: accounts.system_account(c).id for c in CURRENCIES}
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    book = _open_book(rng, customers)
    walk_seed = rng.getrandbits(64)
    net_system = _simulate_final_balances(book, transactions, walk_seed)

    with write_transaction() as s:
        start = utcnow() - timedelta(days=HISTORY_DAYS)
        customer_ids = reserve_ids(s, _table(Customer), customers)
        account_ids = reserve_ids(s, _table(Account), len(book.balances))
        first_customer, first_body = _next_serials(s)
        customer_rows = _customer_rows(rng, customer_ids, first_customer, start)
        write_rows(s, _table(Customer), CUSTOMER_COLUMNS, customer_rows, batch_size, advance)
        account_rows = _account_rows(book, customer_ids, account_ids, first_body, start)
        write_rows(s, _table(Account), ACCOUNT_COLUMNS, account_rows, batch_size, _ignore)
        tx_rows = _transaction_rows(
            book, transactions, walk_seed, account_ids, system, admin_id, start
        )
        last_before = s.scalar(sa.select(sa.func.coalesce(sa.func.max(Transaction.id), 0)))
        with loading(s, _table(Transaction)):
            write_rows(s, _table(Transaction), TRANSACTION_COLUMNS, tx_rows, batch_size, advance)
        with loading(s, _table(Posting)):
            s.execute(_postings_of_transactions_after(s), {"after": last_before})
        for index, currency in enumerate(CURRENCIES):
            s.execute(
                sa.update(Account)
                .where(Account.id == system[currency])
                .values(balance_minor=Account.balance_minor + net_system[index])
            )
        audit.record(
            s,
            actor=admin,
            action="demo.bulk_seed",
            object_type="demo",
            details={
                "customers": customers,
                "accounts": len(account_ids),
                "transactions": transactions,
                "first_customer_number": customer_number_from(first_customer),
                "rng_seed": seed,
            },
        )
    return BulkSeedResult(customers, len(account_ids), transactions, seed)


def _postings_of_transactions_after(s: Session) -> sa.TextClause:
    """``INSERT … SELECT`` of the two postings of every transaction after ``:after``,
    dated by its booking time's UTC date."""
    postgresql = s.get_bind().dialect.name == "postgresql"
    day = "(created_at AT TIME ZONE 'UTC')::date" if postgresql else "date(created_at)"
    legs = " UNION ALL ".join(
        f"SELECT id, {account}, {sign}amount_minor, currency, {day}, created_at "  # noqa: S608 - ours
        "FROM transactions WHERE id > :after"
        for account, sign in (("debit_account_id", "-"), ("credit_account_id", ""))
    )
    return sa.text(
        "INSERT INTO postings (transaction_id, account_id, amount_minor, currency, value_date, "
        f"created_at) {legs}"
    )


def _ignore(_rows: int) -> None:
    pass


def _table(model: type[Any]) -> sa.Table:
    return model.__table__  # type: ignore[no-any-return]


def _admin() -> User:
    admin = users.find_by_email(demo.ADMIN_EMAIL)
    if admin is None:
        demo.seed_demo()
        admin = users.find_by_email(demo.ADMIN_EMAIL)
    assert admin is not None
    return admin


def _open_book(rng: random.Random, customers: int) -> _Book:
    """Decide the accounts: 40% of customers get EUR and USD, the others one of them."""
    book = _Book([], [], [], [[] for _ in CURRENCIES])
    for owner in range(customers):
        if rng.random() < 0.4:
            picks: tuple[int, ...] = (0, 1)
        else:
            picks = (0,) if rng.random() < 0.7 else (1,)
        for currency in picks:
            book.by_currency[currency].append(len(book.currencies))
            book.owners.append(owner)
            book.currencies.append(currency)
            book.balances.append(0)
    return book


def _walk(book: _Book, count: int, seed: int) -> Iterator[tuple[str, int, int, int]]:
    """The postings, as (kind, account, counterpart or -1 for the system, amount).

    Updates ``book.balances`` as it goes; customer balances never go below zero.
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    balances, currencies, by_currency = book.balances, book.currencies, book.by_currency
    n = len(balances)
    rand = rng.random  # int(rand() * k) is several times faster than randrange(k)
    for _ in range(count):
        a = int(rand() * n)
        balance = balances[a]
        r = rand()
        if r < 0.35 or balance == 0:
            amount = 1_000 + int(rand() * 299_000)
            balances[a] = balance + amount
            yield TX_DEPOSIT, a, -1, amount
            continue
        amount = 1 + int(rand() * min(balance, 150_000))
        peers = by_currency[currencies[a]]
        if r < 0.6 or len(peers) < 2:
            balances[a] = balance - amount
            yield TX_WITHDRAWAL, a, -1, amount
            continue
        b = a
        while b == a:
            b = peers[int(rand() * len(peers))]
        balances[a] = balance - amount
        balances[b] += amount
        yield TX_TRANSFER, a, b, amount


def _simulate_final_balances(book: _Book, count: int, seed: int) -> list[int]:
    """Run the walk once for the final balances; return each system account's change."""
    net = [0] * len(CURRENCIES)
    currencies = book.currencies
    for kind, a, _b, amount in _walk(book, count, seed):
        if kind == TX_DEPOSIT:
            net[currencies[a]] -= amount
        elif kind == TX_WITHDRAWAL:
            net[currencies[a]] += amount
    return net


def _next_serials(s: Session) -> tuple[int, int]:
    """The first free customer serial and account body of the bulk ranges."""
    low_customer = customer_number_from(CUSTOMER_SERIAL_LIMIT)  # 'C10000000'
    last_customer = s.scalar(
        sa.select(sa.func.max(Customer.customer_number)).where(
            Customer.customer_number.like("C%"), Customer.customer_number < low_customer
        )
    )
    low_account = account_number_from(ACCOUNT_BODY_LIMIT)
    last_account = s.scalar(
        sa.select(sa.func.max(Account.number)).where(Account.number < low_account)
    )
    customer_serial = int(last_customer[1:]) + 1 if last_customer else 1
    account_body = int(last_account[:-1]) + 1 if last_account else 1
    return customer_serial, account_body


CUSTOMER_COLUMNS = "id customer_number full_name email phone status created_at updated_at"
ACCOUNT_COLUMNS = "id number customer_id kind currency balance_minor status opened_at"
TRANSACTION_COLUMNS = (
    "debit_account_id credit_account_id amount_minor currency kind description created_by_id "
    "created_at"
)


def _customer_rows(
    rng: random.Random, ids: list[int], first_serial: int, start: datetime
) -> Iterator[tuple[Any, ...]]:
    if first_serial + len(ids) > CUSTOMER_SERIAL_LIMIT:
        raise ValueError("the bulk customer number range is exhausted")
    for offset, customer_id in enumerate(ids):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        serial = first_serial + offset
        email = f"{first}.{last}.{serial}@example.test".lower()
        phone = f"+44 20 {serial // 10_000 % 10_000:04d} {serial % 10_000:04d}"
        number = customer_number_from(serial)
        yield customer_id, number, f"{first} {last}", email, phone, CUSTOMER_ACTIVE, start, start


def _account_rows(
    book: _Book, customer_ids: list[int], ids: list[int], first_body: int, start: datetime
) -> Iterator[tuple[Any, ...]]:
    if first_body + len(ids) > ACCOUNT_BODY_LIMIT:
        raise ValueError("the bulk account number range is exhausted")
    for index, account_id in enumerate(ids):
        yield (
            account_id,
            account_number_from(first_body + index),
            customer_ids[book.owners[index]],
            KIND_CUSTOMER,
            CURRENCIES[book.currencies[index]],
            book.balances[index],
            ACCOUNT_ACTIVE,
            start,
        )


def _transaction_rows(
    book: _Book,
    count: int,
    seed: int,
    account_ids: list[int],
    system: dict[str, int],
    actor: int,
    start: datetime,
) -> Iterator[tuple[Any, ...]]:
    """The second run of the walk (from zero balances again), as rows of TRANSACTION_COLUMNS."""
    book = _Book(book.owners, book.currencies, [0] * len(book.balances), book.by_currency)
    system_ids = [system[c] for c in CURRENCIES]
    step = timedelta(days=HISTORY_DAYS) / max(count, 1)
    for i, (kind, a, b, amount) in enumerate(_walk(book, count, seed)):
        currency = book.currencies[a]
        account = account_ids[a]
        if kind == TX_DEPOSIT:
            debit, credit = system_ids[currency], account
        elif kind == TX_WITHDRAWAL:
            debit, credit = account, system_ids[currency]
        else:
            debit, credit = account, account_ids[b]
        texts = DESCRIPTIONS[kind]
        description = texts[i % len(texts)]
        yield (
            debit,
            credit,
            amount,
            CURRENCIES[currency],
            kind,
            description,
            actor,
            start + step * i,
        )
