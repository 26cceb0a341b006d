"""``/api/v1`` for customers' keys: FX quotes and conversions between their own accounts.

- ``POST /fx/quotes`` (``{"from_account", "to_account", "amount_minor"}``): a quote with the
  rate, both amounts and its expiry (``FX_QUOTE_SECONDS``). Another customer's account is
  404; the same currency, no rate or an amount worth nothing once converted is 422.
- ``POST /conversions`` (``{"quote_id"}``, Idempotency-Key honoured): a change request of
  ``ledger.conversion`` (vaulta/services/changes/conversion_action.py). **201** with the
  posted entry when the policy in force needs no approval (the seeded ``conversions``
  policy), **202** with the change request when the bank has made it need one. A used or
  expired quote is 409.

Both need ``own.conversions.request``, carried by a key's ``payments:write`` scope.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import request, url_for

from vaulta.api import auth, bp
from vaulta.api.change_models import ChangeRequest
from vaulta.api.fx_models import Conversion, ConversionRequest, Posting, Quote, QuoteRequest
from vaulta.api.models import IdempotencyHeaders
from vaulta.api.spec import operation
from vaulta.models import User
from vaulta.services import api_idempotency
from vaulta.services.banking import account_queries
from vaulta.services.changes import change_queries, change_requests
from vaulta.services.changes.conversion_action import CONVERSION
from vaulta.services.errors import Conflict, NotFound
from vaulta.services.ledger.fx import conversion_queries, quotes

PERMISSION = quotes.PERMISSION


def _caller() -> User:
    return auth.current_user()


def _own_account_id(number: str) -> int:
    customer_id = _caller().customer_id
    if customer_id is None:
        raise NotFound("No such account.")
    return account_queries.get_account_for_customer(number, customer_id).id


@bp.post("/fx/quotes")
@operation(permission=PERMISSION, ok=(201, Quote), errors=(404, 409, 413))
def create_fx_quote(json: QuoteRequest) -> tuple[dict[str, Any], int]:
    """Quote a conversion between two of the customer's accounts in different currencies

    At the rate in force (or the reverse pair's, inverted) less the bank's spread; the
    amount received is rounded down to a minor unit. Valid for FX_QUOTE_SECONDS; use it
    once with POST /conversions.
    """
    quote = quotes.request_quote(
        _caller(),
        from_account_id=_own_account_id(json.from_account),
        to_account_id=_own_account_id(json.to_account),
        amount_minor=json.amount_minor,
    )
    return Quote.of(quote, json.from_account, json.to_account).model_dump(mode="json"), 201


def conversion_json(transaction_id: int, request_id: int) -> dict[str, Any]:
    found = conversion_queries.conversion(transaction_id)
    return Conversion(
        transaction_id=found.transaction_id,
        quote_id=found.quote_id,
        from_account=found.from_account,
        to_account=found.to_account,
        from_amount_minor=found.from_amount_minor,
        from_currency=found.from_currency,
        to_amount_minor=found.to_amount_minor,
        to_currency=found.to_currency,
        rate=format(found.rate, "f"),
        market_rate=format(found.market_rate, "f"),
        inverted=found.inverted,
        spread_bps=found.spread_bps,
        created_at=found.created_at,
        postings=[Posting(**vars(p)) for p in found.postings],
        change_request_id=request_id,
    ).model_dump(mode="json")


def _request_key(key: str) -> str:
    """The change request's idempotency key: the API key's, per user (as for deposits)."""
    digest = hashlib.sha256(f"{_caller().id}:{key}".encode()).hexdigest()
    return f"api-{digest[:40]}"


@bp.post("/conversions")
@operation(
    permission=PERMISSION,
    ok=(201, Conversion),
    also=((202, ChangeRequest, "Awaiting approval: the policy in force asks for it"),),
    errors=(404, 409, 413),
)
def create_conversion(
    json: ConversionRequest, headers: IdempotencyHeaders
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Convert at a quote (once, before it expires): the posted entry, or the change request
    when the bank's policy asks for approval"""
    key = headers.idempotency_key
    hashed = api_idempotency.request_hash(request.method, request.path, request.get_json())
    replay = api_idempotency.stored(_caller(), key, hashed)
    if replay is None:
        made = change_requests.submit(
            CONVERSION,
            {"quote_id": json.quote_id},
            actor=_caller(),
            idempotency_key=_request_key(key),
        )
        if made.failure_reason is not None:
            raise Conflict(made.failure_reason)
        if made.is_pending:
            found = change_queries.request_detail(made.id)
            status, answer = 202, ChangeRequest.of(found.request, found.decisions)
            body = answer.model_dump(mode="json")
        else:
            assert made.result is not None
            status, body = 201, conversion_json(made.result["transaction_id"], made.id)
        replay = api_idempotency.run_once(_caller(), key, hashed, lambda _s: (status, body))
    extra: dict[str, str] = {}
    if replay.status == 201:
        extra["Location"] = url_for("api.get_account", number=replay.body["to_account"])
    if replay.replayed:
        extra["Idempotent-Replayed"] = "true"
    return replay.body, replay.status, extra
