"""Demo data for ``flask vaulta seed-demo``: idempotent, consistent, never empty pages."""

from __future__ import annotations

import random

import sqlalchemy as sa

from vaulta.models import Account, Customer, User
from vaulta.models.user import ROLE_ADMIN, ROLE_CUSTOMER
from vaulta.services import accounts, customers, ledger, users
from vaulta.services.db import session
from vaulta.services.demo_payments import seed_demo_payments

DEMO_PASSWORD = "vaulta-demo-password"  # noqa: S105 - printed demo credentials
ADMIN_EMAIL = "admin@vaulta.test"
APPROVER_EMAIL = "approver@vaulta.test"
CUSTOMER_EMAIL = "customer@vaulta.test"

FURTHER_CUSTOMERS = [
    ("Ada Lovelace", "ada@vaulta.test", True),
    ("Alan Turing", "alan@vaulta.test", True),
    ("Grace Hopper", "grace@vaulta.test", False),
    ("Edsger Dijkstra", None, False),
    ("Barbara Liskov", "barbara@vaulta.test", True),
    ("Donald Knuth", None, False),
    ("Margaret Hamilton", "margaret@vaulta.test", False),
    ("Ken Thompson", None, False),
    ("Frances Allen", "frances@vaulta.test", True),
    ("John Backus", None, False),
    ("Radia Perlman", "radia@vaulta.test", False),
    ("Tony Hoare", None, False),
]


def demo_logins() -> list[tuple[str, str]]:
    """(email, role) of every demo login."""
    logins = [
        (ADMIN_EMAIL, "admin"),
        (APPROVER_EMAIL, "admin (second approver)"),
        (CUSTOMER_EMAIL, "customer"),
    ]
    logins += [(email, "customer") for _, email, has in FURTHER_CUSTOMERS if has and email]
    return logins


def _login(email: str, password: str, role: str, name: str, customer: Customer | None) -> User:
    return users.find_by_email(email) or users.create_user(
        email, password, role=role, full_name=name, customer=customer
    )


def seed_demo(password: str = DEMO_PASSWORD, rng_seed: int = 7) -> bool:
    """Create the demo book unless it is there already; True when something was created.

    Running it again adds nothing.
    """
    if users.find_by_email(ADMIN_EMAIL) is not None:
        return False
    rng = random.Random(rng_seed)  # noqa: S311 - reproducible demo data, not secrets
    admin = _login(ADMIN_EMAIL, password, ROLE_ADMIN, "Avery Admin", None)
    _login(APPROVER_EMAIL, password, ROLE_ADMIN, "Parker Approver", None)
    for currency in ("EUR", "USD"):
        accounts.system_account(currency)

    main = customers.create_customer(
        full_name="Casey Customer",
        email=CUSTOMER_EMAIL,
        phone="+44 20 7946 0000",
        address="1 Demo Street, London",
        actor=admin,
    )
    _login(CUSTOMER_EMAIL, password, ROLE_CUSTOMER, "Casey Customer", main)
    eur = accounts.open_account(main, "EUR", actor=admin)
    usd = accounts.open_account(main, "USD", actor=admin)
    ledger.deposit(eur, 250_000, actor=admin, description="Opening deposit")
    ledger.deposit(usd, 120_000, actor=admin, description="Opening deposit")
    ledger.withdraw(eur, 4_250, actor=admin, description="Cash withdrawal")

    pool: list[Account] = [eur]
    for name, email, has_login in FURTHER_CUSTOMERS:
        customer = customers.create_customer(
            full_name=name,
            email=email,
            phone=f"+44 20 7946 {rng.randrange(1000, 9999)}",
            actor=admin,
        )
        if has_login and email:
            _login(email, password, ROLE_CUSTOMER, name, customer)
        account = accounts.open_account(customer, rng.choice(("EUR", "EUR", "USD")), actor=admin)
        ledger.deposit(
            account, rng.randrange(10_000, 900_000), actor=admin, description="Opening deposit"
        )
        if rng.random() < 0.5:
            ledger.withdraw(
                account, rng.randrange(100, 5_000), actor=admin, description="ATM withdrawal"
            )
        if account.currency == "EUR":
            pool.append(account)
    for _ in range(8):
        source, target = rng.sample(pool, 2)
        ledger.transfer(
            session().get(Account, source.id),  # type: ignore[arg-type]
            session().get(Account, target.id),  # type: ignore[arg-type]
            rng.randrange(100, 2_000),
            actor=admin,
            description=rng.choice(("Rent share", "Dinner", "Invoice 2026-11", "Gift")),
        )
    seed_demo_payments(customer_email=CUSTOMER_EMAIL, admin=admin)
    return True


def database_is_empty() -> bool:
    return session().scalar(sa.select(sa.func.count()).select_from(User)) == 0
