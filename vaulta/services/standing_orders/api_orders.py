"""Standing orders set up through the JSON API, behind an Idempotency-Key as payments are
(vaulta/services/payments/api_payments.py): the first response to a key is stored in the
transaction that saves the order and replayed to the same request; the key with another
request is refused (409 ``idempotency_key_reused``); refused input stores nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from vaulta.models import StandingOrder, User
from vaulta.services import api_idempotency
from vaulta.services.api_idempotency import StoredResponse
from vaulta.services.errors import InvalidInput
from vaulta.services.payments.api_payments import API_FIELDS
from vaulta.services.payments.payment_creation import PaymentOrder
from vaulta.services.standing_orders.orders import Schedule, add, check


def create_via_api(
    *,
    actor: User,
    order: PaymentOrder,
    plan: Schedule,
    idempotency_key: str,
    request_hash: str,
    render: Callable[[StandingOrder], dict[str, Any]],
) -> StoredResponse:
    """Set up a standing order once per ``idempotency_key``; (201, render(order)).

    A key seen before replays its stored response (or raises IdempotencyKeyReused when the
    request differs); refused input raises InvalidInput naming the JSON body's field.
    """
    replay = api_idempotency.stored(actor, idempotency_key, request_hash)
    if replay is not None:
        return replay
    try:
        checked = check(actor=actor, order=order, plan=plan)
    except InvalidInput as err:
        raise InvalidInput(err.message, field=API_FIELDS.get(err.field or "", err.field)) from None

    def work(s: Session) -> tuple[int, dict[str, Any]]:
        made = add(s, actor, checked)
        return 201, render(made)

    return api_idempotency.run_once(actor, idempotency_key, request_hash, work)
