"""What the approval policies now in force ask of existing payments (action
``payments.payment``), evaluated for many at once.

Deciding a payment does not use this: its policy is evaluated once, when it reaches the
queue, and stored on its change request (vaulta/services/payments/payment_changes.py).
This answers "what would the policies say now" (tests, reports). The customer's cumulative
total counts their payments pending approval or executed
(vaulta/services/changes/cumulative.py).
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
