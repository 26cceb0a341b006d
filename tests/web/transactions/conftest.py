"""Fixtures of the transactions and audit-log pages' tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask

from tests import factories
from vaulta.models import Account, Transaction, User
from vaulta.services import ledger


@dataclass
class Book:
    a: Account  # EUR, the customer_user's
    b: Account  # EUR, another customer's
    deposit: Transaction  # 100.00 EUR into a
    transfer: Transaction  # 25.00 EUR a -> b


@pytest.fixture
def book(app: Flask, teller: User, customer_user: User) -> Book:
    a = factories.make_account(factories.customer_of(customer_user), "EUR")
    b = factories.make_account(factories.make_customer("Bo Brown"), "EUR")
    deposit = ledger.deposit(a, 10_000, actor=teller, description="Salary March")
    transfer = ledger.transfer(a, b, 2_500, actor=teller, description="Rent April")
    return Book(a=a, b=b, deposit=deposit, transfer=transfer)
