"""The demo customer's payments: monthly ones in the history, requested in the evening and
approved by the approver the next morning, and three that wait for approval at the
end, each requested more than a day ago: to another customer, to an external IBAN, and one
at the step-up threshold (funded by savings moved in a few days before, so that approving
it executes)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from vaulta.models.transaction import TX_DEPOSIT
from vaulta.ops.seeding.demo_history import Approve, Confirm, Post, Request, Step

# The customer the demo pays into (and whose EUR account the browser test watches).
BENEFICIARY_EMAIL = "ada@vaulta.test"
UTILITY = ("Northwind Utilities", "DE89370400440532013000", "COBADEFFXXX")
LANDLORD = ("Harbour Estates Ltd", "GB82WEST12345698765432", "NWBKGB2L")
RENT_SHARE_MINOR = 12_000
JOINING_DAYS = 21  # customers join over the first three weeks of the history


def payment_steps(
    rng: random.Random,
    start: datetime,
    now: datetime,
    *,
    customer: str,
    account: str,
    beneficiary: str,
    threshold: int,
) -> list[Step]:
    """The payments of ``customer`` from ``account``; ``beneficiary`` is a VAULTA account."""
    steps: list[Step] = []
    settled = start + timedelta(days=JOINING_DAYS + 1)  # every customer has joined by then
    month = _month_start(start)
    this_month = _month_start(now)
    while month < this_month:
        bill = _month_start(month - timedelta(days=1))
        if month + timedelta(days=11) > settled:
            steps += _paid(
                rng, f"electricity {bill:%Y-%m}", month + timedelta(days=11), customer,
                account, rng.randrange(7_500, 9_800), f"Electricity {bill:%Y-%m}", to=None,
                beneficiary=UTILITY,
            )  # fmt: skip
        if month + timedelta(days=27) > settled:
            steps += _paid(
                rng, f"rent share {month:%Y-%m}", month + timedelta(days=27), customer, account,
                RENT_SHARE_MINOR, f"Rent share {month:%B}", to=beneficiary, beneficiary=None,
            )  # fmt: skip
        month = _month_start(month + timedelta(days=32))
    savings = now - timedelta(days=3, hours=2)
    steps.append(Post(savings, TX_DEPOSIT, account, threshold + 500_000, "Savings moved in"))
    last_bill = _month_start(this_month - timedelta(days=1))
    # All requested more than 24 hours ago: the large one would otherwise bring Casey's
    # 24-hour total past 10,000.00, and every new payment of hers would need two approvers.
    waiting = [
        (timedelta(hours=50), RENT_SHARE_MINOR, f"Rent share {now:%B}", beneficiary, None),
        (timedelta(hours=31), 8_990, f"Electricity {last_bill:%Y-%m}", None, UTILITY),
        (timedelta(hours=26), threshold + 250_000, "Deposit flat 3B", None, LANDLORD),
    ]
    for n, (ago, amount, reference, to, payee) in enumerate(waiting):
        key = f"waiting {n}"
        requested = now - ago
        steps.append(Request(requested, key, customer, account, amount, reference, to, payee))
        steps.append(Confirm(requested + timedelta(minutes=2), key, customer))
    return steps


def _paid(
    rng: random.Random,
    key: str,
    day: datetime,
    customer: str,
    account: str,
    amount: int,
    reference: str,
    *,
    to: str | None,
    beneficiary: tuple[str, str, str] | None,
) -> list[Step]:
    """Requested on ``day`` in the evening, confirmed, approved the next morning."""
    requested = day + timedelta(hours=19, minutes=rng.randrange(0, 150))
    approved = day + timedelta(days=1, hours=9, minutes=rng.randrange(0, 120))
    return [
        Request(requested, key, customer, account, amount, reference, to, beneficiary),
        Confirm(requested + timedelta(minutes=2), key, customer),
        Approve(approved, key, account, amount, to),
    ]


def _month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
