"""``/api/v1/standing-orders`` for customers' keys: their own standing orders only.

- ``GET /standing-orders`` and ``GET /standing-orders/{id}`` (``own.payments.read``; another
  customer's order is 404);
- ``POST /standing-orders`` (``own.payments.request``, a ``payments:write`` key, an
  ``Idempotency-Key`` as for ``POST /payments``): the fields of a payment plus
  ``frequency``, ``first_date`` and the optional ``end_date``/``max_runs``; checked by the
  same payment service as ``POST /payments``; 201 (replayed for the same key and body, 409
  for the key with another body);
- ``POST /standing-orders/{id}/pause``, ``/resume``, ``/cancel`` (``own.payments.request``):
  409 when the order's status does not allow it.

Each run makes a payment that awaits approval like any other (docs/architecture.md
"Standing orders").
"""

from __future__ import annotations

from typing import Any

from flask import request, url_for

from vaulta.api import auth, bp
from vaulta.api.models import ID_MAX, IdempotencyHeaders
from vaulta.api.spec import operation
from vaulta.api.standing_order_models import StandingOrder, StandingOrderList, StandingOrderRequest
from vaulta.models import StandingOrder as StandingOrderRow
from vaulta.services import api_idempotency, standing_orders
from vaulta.services.errors import NotFound
from vaulta.services.payments.payment_creation import PaymentOrder
from vaulta.services.standing_orders import api_orders, queries

ORDER_PATH = {"order_id": "Standing order id"}


def _own(order_id: int) -> StandingOrderRow:
    if not 0 < order_id <= ID_MAX:
        raise NotFound("No such standing order.")
    return queries.get_for(order_id, auth.current_user())


@bp.get("/standing-orders")
@operation(permission="own.payments.read", ok=(200, StandingOrderList))
def list_standing_orders() -> StandingOrderList:
    """The customer's standing orders, newest first"""
    customer_id = auth.current_user().customer_id
    assert customer_id is not None  # own.* permissions are customers' logins' only
    return StandingOrderList(
        items=[StandingOrder.of(o, runs=3) for o in queries.of_customer(customer_id)]
    )


@bp.get("/standing-orders/<int:order_id>")
@operation(permission="own.payments.read", ok=(200, StandingOrder), errors=(404,), path=ORDER_PATH)
def get_standing_order(order_id: int) -> StandingOrder:
    """One standing order with its latest runs"""
    return StandingOrder.of(_own(order_id))


@bp.post("/standing-orders")
@operation(permission="own.payments.request", ok=(201, StandingOrder), errors=(409, 413))
def create_standing_order(
    json: StandingOrderRequest, headers: IdempotencyHeaders
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Set up a standing order (each run is a payment awaiting approval)

    Idempotent like ``POST /payments``: the same Idempotency-Key and body replay the first
    response; the key with another body is 409 idempotency_key_reused.
    """
    beneficiary = json.beneficiary
    result = api_orders.create_via_api(
        actor=auth.current_user(),
        order=PaymentOrder(
            from_account=json.from_account,
            reference=json.reference,
            amount_minor=json.amount_minor,
            currency=json.currency,
            to_account=json.to_account or "",
            beneficiary_name=beneficiary.name if beneficiary else "",
            beneficiary_iban=beneficiary.iban if beneficiary else "",
            beneficiary_bic=(beneficiary.bic or "") if beneficiary else "",
        ),
        plan=standing_orders.Schedule(
            json.frequency, json.first_date, json.end_date, json.max_runs
        ),
        idempotency_key=headers.idempotency_key,
        request_hash=api_idempotency.request_hash(request.method, request.path, request.get_json()),
        render=lambda made: StandingOrder.of(made).model_dump(mode="json"),
    )
    extra = {"Location": url_for("api.get_standing_order", order_id=result.body["id"])}
    if result.replayed:
        extra["Idempotent-Replayed"] = "true"
    return result.body, result.status, extra


def _action(order_id: int, name: str) -> StandingOrder:
    order = _own(order_id)
    change = {
        "pause": standing_orders.pause,
        "resume": standing_orders.resume,
        "cancel": standing_orders.cancel,
    }[name]
    return StandingOrder.of(change(order.id, actor=auth.current_user()))


@bp.post("/standing-orders/<int:order_id>/pause")
@operation(
    permission="own.payments.request", ok=(200, StandingOrder), errors=(404, 409), path=ORDER_PATH
)
def pause_standing_order(order_id: int) -> StandingOrder:
    """Pause: no runs until resumed (dates passed meanwhile are not paid later)"""
    return _action(order_id, "pause")


@bp.post("/standing-orders/<int:order_id>/resume")
@operation(
    permission="own.payments.request", ok=(200, StandingOrder), errors=(404, 409), path=ORDER_PATH
)
def resume_standing_order(order_id: int) -> StandingOrder:
    """Resume a paused order from its next date today or later"""
    return _action(order_id, "resume")


@bp.post("/standing-orders/<int:order_id>/cancel")
@operation(
    permission="own.payments.request", ok=(200, StandingOrder), errors=(404, 409), path=ORDER_PATH
)
def cancel_standing_order(order_id: int) -> StandingOrder:
    """Cancel for good"""
    return _action(order_id, "cancel")
