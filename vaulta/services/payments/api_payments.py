"""Payments requested through the JSON API: the shared payment service behind an
Idempotency-Key.

The web flow confirms a request with a passcode mailed to the customer. An API call is
already made with a strong credential — a bearer key that carries the ``payments:write``
scope, created by the customer behind their password (and second factor) — so an API
payment skips the mailed code: it is created directly in ``pending_approval``, with
``confirmed_at`` set, and audited as ``payment.request_api`` (with the key's public prefix).
The order is checked and the payment made by vaulta/services/payments/payment_creation.py,
exactly as for the web; after that everything is the same too: four-eyes approval by an
admin, exactly-once execution, expiry after PAYMENT_EXPIRY_DAYS.

What is the API's own: the stored first response per Idempotency-Key
(vaulta/services/api_idempotency.py), and refused fields named as the JSON body names them
(``beneficiary.iban``, ``amount_minor``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from vaulta.models import Payment, User, utcnow
from vaulta.services import api_idempotency
from vaulta.services.api_idempotency import StoredResponse
from vaulta.services.errors import InvalidInput
from vaulta.services.payments.payment_creation import (
    CheckedPayment,
    PaymentOrder,
    add_payment,
    check_order,
)

# The service's field names → the JSON body's.
API_FIELDS = {
    "amount": "amount_minor",
    "beneficiary_name": "beneficiary.name",
    "beneficiary_iban": "beneficiary.iban",
    "beneficiary_bic": "beneficiary.bic",
}


def _checked(actor: User, order: PaymentOrder) -> CheckedPayment:
    try:
        return check_order(actor, order)
    except InvalidInput as err:
        field = API_FIELDS.get(err.field or "", err.field)
        raise InvalidInput(err.message, field=field) from None


def request_payment_via_api(
    *,
    actor: User,
    order: PaymentOrder,
    idempotency_key: str,
    request_hash: str,
    key_prefix: str,
    render: Callable[[Payment], dict[str, Any]],
) -> StoredResponse:
    """Create a payment awaiting approval once per ``idempotency_key``; (201, render(payment)).

    A key seen before replays its stored response (or raises IdempotencyKeyReused when the
    request differs); refused input raises InvalidInput and stores nothing.
    """
    replay = api_idempotency.stored(actor, idempotency_key, request_hash)
    if replay is not None:
        return replay
    checked = _checked(actor, order)

    def work(s: Session) -> tuple[int, dict[str, Any]]:
        payment = add_payment(
            s,
            actor,
            checked,
            now=utcnow(),
            confirmed=True,
            action="payment.request_api",
            audit_details={"api_key_prefix": key_prefix},
        )
        return 201, render(payment)

    return api_idempotency.run_once(actor, idempotency_key, request_hash, work)
