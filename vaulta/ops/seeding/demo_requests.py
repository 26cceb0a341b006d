"""The demo's four-eyes work: change requests the teller made a few hours ago that wait for
approver@ in the inbox — a cash deposit (one approver), a 12,000.00 withdrawal (two
approvers, step-up for the second) and a customer's new phone number — all for one
customer other than Casey (so Casey's 24-hour total stays small), whose account is
funded a couple of days before so the withdrawal can execute once approved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from vaulta.models.transaction import TX_DEPOSIT
from vaulta.ops.seeding.demo_history import Book, Member, Post, Step
from vaulta.services.banking.customers import EDITABLE_FIELDS
from vaulta.services.changes import change_requests

LARGE_WITHDRAWAL_MINOR = 1_200_000  # 12,000.00: two approvers under the default policies
FUNDING_MINOR = 1_500_000
DEPOSIT_MINOR = 45_000


@dataclass(frozen=True)
class Ask:
    """The teller asks for ``action``: a deposit or withdrawal on ``account``, or (no
    account) a new phone number for ``member``."""

    at: datetime
    action: str
    member: str
    account: str | None = None
    amount_minor: int = 0
    text: str = ""

    def run(self, book: Book) -> None:
        change_requests.submit(self.action, self._params(book), actor=book.teller)

    def _params(self, book: Book) -> dict[str, Any]:
        if self.account is not None:
            account = book.account(self.account)
            return {
                "account_id": account.id,
                "amount_minor": self.amount_minor,
                "description": self.text,
            }
        customer = book.customers[self.member]
        fields = {name: getattr(customer, name) for name in EDITABLE_FIELDS}
        return {"customer_id": customer.id, **fields, "phone": self.text}

    def changes(self) -> list[tuple[str, int]]:
        return []  # nothing moves until someone approves


def request_steps(now: datetime, member: Member) -> list[Step]:
    """Funding two days ago, then the teller's three requests in the last few hours."""
    account = f"{member.key}:{member.currencies[0]}"
    return [
        Post(now - timedelta(days=2, hours=3), TX_DEPOSIT, account, FUNDING_MINOR, "Car sale"),
        Ask(now - timedelta(hours=3), "ledger.deposit", member.key, account, DEPOSIT_MINOR,
            "Cash paid in at the counter"),
        Ask(now - timedelta(hours=2), "ledger.withdrawal", member.key, account,
            LARGE_WITHDRAWAL_MINOR, "Cash for a car purchase"),
        Ask(now - timedelta(minutes=50), "customer.update", member.key,
            text="+44 20 7946 0123"),
    ]  # fmt: skip
