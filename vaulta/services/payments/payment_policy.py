"""What the approval policies ask of a customer's payment (action ``payments.payment``).

Payments keep their own approval flow this release: one approver other than the maker.
The policies add to it: when the applying policy asks for a step-up code at any level, or
for more than one approver, the approver must confirm with a fresh one-time code (the
single approval stands in for the levels until payments become change requests), and a
payment whose policy allows no bulk is approved on its own. The step-up threshold
(APPROVAL_STEP_UP_THRESHOLD_MINOR) still applies as well. The customer's cumulative total
counts their payments pending approval or executed (vaulta/services/changes/policies.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from vaulta.models import Account, Payment
from vaulta.services.changes import policies
from vaulta.services.changes.policies import PAYMENT_ACTION, Facts, PolicyOutcome
from vaulta.services.unit_of_work import session

_FACTS = (
    sa.select(
        Payment.id,
        Payment.amount_minor,
        Payment.currency,
        Payment.requested_by_id,
        Payment.beneficiary_iban,
        Account.customer_id,
        Account.kind,
    )
    .join(Account, Account.id == Payment.from_account_id)
    .where(Payment.id.in_(sa.bindparam("ids", expanding=True)))
)


@dataclass(frozen=True)
class PaymentPolicy:
    """The applying policy's outcome and what it means for approving the payment."""

    outcome: PolicyOutcome

    @property
    def needs_step_up(self) -> bool:
        return bool(self.outcome.step_up_levels) or self.outcome.levels > 1

    @property
    def bulk_allowed(self) -> bool:
        return self.outcome.bulk_allowed and not self.needs_step_up


def for_payments(payment_ids: list[int]) -> dict[int, PaymentPolicy]:
    """The policy outcome of each existing payment of ``payment_ids``."""
    if not payment_ids:
        return {}
    s = session()
    rows = s.execute(_FACTS, {"ids": list(payment_ids)}).all()
    facts = [
        Facts(
            action=PAYMENT_ACTION,
            amount_minor=row.amount_minor,
            currency=row.currency,
            customer_id=row.customer_id,
            maker_id=row.requested_by_id,
            beneficiary=row.beneficiary_iban,
            account_kind=row.kind,
            payment_id=row.id,
        )
        for row in rows
    ]
    outcomes = policies.evaluate_many(s, facts)
    return {row.id: PaymentPolicy(outcome) for row, outcome in zip(rows, outcomes, strict=True)}


def for_payment(payment_id: int) -> PaymentPolicy | None:
    """The policy outcome of one payment (None when there is no such payment)."""
    return for_payments([payment_id]).get(payment_id)
