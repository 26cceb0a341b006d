"""Fixtures of the transactions and audit-log pages' tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from vaulta.extensions import db
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


@contextmanager
def count_queries() -> Iterator[list[str]]:
    """Collect the SQL statements run inside the block."""
    statements: list[str] = []

    def before_cursor_execute(*args: Any) -> None:
        statements.append(args[2])

    sa.event.listen(db.engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before_cursor_execute)
