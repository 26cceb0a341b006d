"""One-off payments staff enter on a customer's behalf (``payments.request``: a teller).

The order is checked by ``payment_creation.check_order`` against the customer's accounts
and made by ``add_payment`` as confirmed: there is no passcode to mail (the teller, not the
customer, requests it), so it goes straight to the approval queue with its change request
``payments.payment`` (the approval policies' levels and step-up). The teller is the
requester and so the request's maker: four eyes keep them from deciding it. Audited
``payment.request_staff`` with the customer's id. The form's token (``idempotency_key``)
makes a double submit return the first payment, as on the customer's form.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from vaulta.models import ChangeRequest, Payment, User, utcnow
from vaulta.services.identity import permissions
from vaulta.services.payments.payment_creation import PaymentOrder, add_payment, check_order
from vaulta.services.payments.payment_requests import by_form_token, same_requester
from vaulta.services.unit_of_work import session, write_transaction

STAFF_REQUEST = "payments.request"


@dataclass(frozen=True)
class Entered:
    """A payment entered by staff, its change request, and whether the form's token had
    already made it (a double submit)."""

    payment: Payment
    request: ChangeRequest
    duplicate: bool = False


def _entered(payment: Payment, *, duplicate: bool = False) -> Entered:
    request = session().get(ChangeRequest, payment.change_request_id, populate_existing=True)
    assert request is not None  # every confirmed payment has one (add_payment)
    return Entered(payment, request, duplicate)


def enter_for_customer(
    *, actor: User, customer_id: int, order: PaymentOrder, idempotency_key: str = ""
) -> Entered:
    """Check and make the payment from ``customer_id``'s account, pending approval.

    Forbidden without ``payments.request``; InvalidInput names the order's field (an account
    of another customer is "not one of theirs"); nothing is written when refused.
    """
    permissions.require(actor, STAFF_REQUEST)
    key = (idempotency_key or "").strip()[:64]
    if key and (existing := by_form_token(key)) is not None:
        return _entered(same_requester(existing, actor), duplicate=True)
    checked = check_order(actor, order, customer_id=customer_id)
    try:
        with write_transaction() as s:
            payment = add_payment(
                s,
                actor,
                checked,
                now=utcnow(),
                confirmed=True,
                action="payment.request_staff",
                idempotency_key=key or None,
                audit_details={"customer_id": customer_id},
            )
    except sa.exc.IntegrityError:
        existing = by_form_token(key) if key else None
        if existing is None:
            raise
        return _entered(same_requester(existing, actor), duplicate=True)
    return _entered(payment)
