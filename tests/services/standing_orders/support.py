"""Helpers of the standing-order tests: an order from the customer's EUR account."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path

from flask import Flask

from tests import factories
from vaulta.models import Account, StandingOrder, User
from vaulta.models.base import clock_set_to
from vaulta.services import standing_orders
from vaulta.services.payments.payment_creation import PaymentOrder


def accounts_of(user: User, other: User) -> tuple[Account, Account]:
    """The customer's funded EUR account and another customer's EUR account."""
    source = factories.make_account(factories.customer_of(user), "EUR", 100_000)
    target = factories.make_account(factories.customer_of(other), "EUR")
    return source, target


def make_order(
    user: User,
    source: Account,
    target: Account,
    *,
    first: date,
    frequency: str = "monthly",
    end_date: date | None = None,
    max_runs: int | None = None,
    amount_minor: int = 1_500,
    customer_id: int | None = None,
) -> StandingOrder:
    """An order set up on ``first`` (the clock set to that day, so it is not in the past)."""
    with clock_set_to(datetime.combine(first, time(8), UTC)):
        return standing_orders.create(
            actor=user,
            order=PaymentOrder(
                from_account=source.number,
                to_account=target.number,
                amount_minor=amount_minor,
                currency="EUR",
                reference="Rent",
            ),
            plan=standing_orders.Schedule(frequency, first, end_date, max_runs),
            customer_id=customer_id,
        )


def mails(app: Flask) -> list[dict[str, str]]:
    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
