"""Factories: build customers, logins and funded accounts through the services."""

from __future__ import annotations

import itertools

from vaulta.models import Account, Customer, User
from vaulta.models.user import ROLE_CUSTOMER, ROLE_STAFF, STAFF_ADMIN
from vaulta.services import ledger
from vaulta.services.banking import accounts, customers
from vaulta.services.identity import users

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


def make_staff(
    email: str | None = None, *roles: str, password: str = PASSWORD, name: str = "Test Staff"
) -> User:
    """A staff login holding ``roles`` (admin, approver, teller, auditor)."""
    email = email or f"staff{next(_counter)}@example.test"
    return users.create_user(email, password, role=ROLE_STAFF, full_name=name, staff_roles=roles)


def make_admin(email: str | None = None, password: str = PASSWORD) -> User:
    email = email or f"admin{next(_counter)}@example.test"
    return make_staff(email, STAFF_ADMIN, password=password, name="Test Admin")


def _system_actor() -> User:
    return users.find_by_email("factory-admin@example.test") or make_admin(
        "factory-admin@example.test"
    )


def make_customer(name: str | None = None, email: str | None = None) -> Customer:
    return customers.create_customer(
        full_name=name or f"Customer {next(_counter)}", email=email, actor=_system_actor()
    )


def make_customer_login(email: str | None = None, customer: Customer | None = None) -> User:
    email = email or f"customer{next(_counter)}@example.test"
    customer = customer or make_customer(email=email)
    return users.create_user(
        email, PASSWORD, role=ROLE_CUSTOMER, full_name=customer.full_name, customer=customer
    )


def make_account(customer: Customer, currency: str = "EUR", balance_minor: int = 0) -> Account:
    account = accounts.open_account(customer, currency, actor=_system_actor())
    if balance_minor:
        ledger.deposit(account, balance_minor, actor=_system_actor(), description="Funding")
    return account


def customer_of(user: User) -> Customer:
    assert user.customer is not None
    return user.customer
