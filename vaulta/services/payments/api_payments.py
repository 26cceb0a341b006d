"""Payments requested through the JSON API, and the customer's payments page by page.

The web flow confirms a request with a passcode mailed to the customer. An API call is
already made with a strong credential — a bearer key that carries the ``payments:write``
scope, created by the customer behind their password (and second factor) — so an API
payment skips the mailed code: it is created directly in ``pending_approval``, with
``confirmed_at`` set, and audited as ``payment.request_api`` (with the key's public prefix).
Everything after that is the same as for the web: four-eyes approval by an admin,
exactly-once execution, expiry after PAYMENT_EXPIRY_DAYS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from vaulta.models import Account, Payment, User, utcnow
from vaulta.models.payment import PAYMENT_PENDING
from vaulta.services import api_idempotency, audit, events
from vaulta.services.api_idempotency import StoredResponse
from vaulta.services.errors import InvalidInput
from vaulta.services.payments import iban, payment_requests


@dataclass(frozen=True)
class ApiPaymentRequest:
    """The fields of ``POST /api/v1/payments`` (shapes already checked by the API layer)."""

    from_account: str
    amount_minor: int
    currency: str
    reference: str
    to_account: str | None = None
    beneficiary_name: str | None = None
    beneficiary_iban: str | None = None
    beneficiary_bic: str | None = None


@dataclass(frozen=True)
class _Checked:
    source: Account
    target: Account | None
    name: str | None
    iban: str | None
    bic: str | None
    amount_minor: int
    reference: str


def _check(actor: User, request: ApiPaymentRequest) -> _Checked:
    """The request against the database: own active account, beneficiary, amount, currency."""
    if actor.customer_id is None:
        raise InvalidInput("Only customers request payments.")
    source = payment_requests.own_account(actor.customer_id, request.from_account)
    if request.currency != source.currency:
        raise InvalidInput(
            f"Account {source.number} holds {source.currency}; send the amount in it.",
            field="currency",
        )
    maximum = current_app.config["LEDGER_MAX_AMOUNT_MINOR"]
    if not 0 < request.amount_minor <= maximum:
        raise InvalidInput(f"The amount must be between 1 and {maximum}.", field="amount_minor")
    target: Account | None = None
    name = normalised_iban = bic = None
    if request.to_account is not None:
        target = payment_requests.beneficiary_account(request.to_account, source)
    else:
        name = payment_requests.clean_text(
            request.beneficiary_name,
            field="beneficiary.name",
            label="the beneficiary's name",
            maximum=payment_requests.NAME_MAX,
        )
        normalised_iban = iban.validate(request.beneficiary_iban or "", field="beneficiary.iban")
        bic = iban.validate_bic(request.beneficiary_bic, field="beneficiary.bic")
    reference = payment_requests.clean_text(
        request.reference,
        field="reference",
        label="a reference",
        maximum=payment_requests.REFERENCE_MAX,
    )
    return _Checked(source, target, name, normalised_iban, bic, request.amount_minor, reference)


def _create_in(s: Session, actor: User, checked: _Checked, key_prefix: str) -> Payment:
    now = utcnow()
    payment = Payment(
        from_account_id=checked.source.id,
        beneficiary_account_id=checked.target.id if checked.target else None,
        beneficiary_name=checked.name,
        beneficiary_iban=checked.iban,
        beneficiary_bic=checked.bic,
        amount_minor=checked.amount_minor,
        currency=checked.source.currency,
        reference=checked.reference,
        status=PAYMENT_PENDING,
        requested_by_id=actor.id,
        confirmed_at=now,
        expires_at=payment_requests.expiry_from(now),
    )
    s.add(payment)
    s.flush()
    audit.record(
        s,
        actor=actor,
        action="payment.request_api",
        object_type="payment",
        object_id=payment.id,
        details={
            "amount_minor": checked.amount_minor,
            "currency": checked.source.currency,
            "from": checked.source.number,
            "to": checked.target.number if checked.target else checked.iban,
            **({"bic": checked.bic} if checked.bic else {}),
            "api_key_prefix": key_prefix,
        },
    )
    events.emit(s, "payment.created", events.PaymentData.model_validate(payment))
    return payment


def request_payment_via_api(
    *,
    actor: User,
    request: ApiPaymentRequest,
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
    checked = _check(actor, request)

    def work(s: Session) -> tuple[int, dict[str, Any]]:
        return 201, render(_create_in(s, actor, checked, key_prefix))

    return api_idempotency.run_once(actor, idempotency_key, request_hash, work)
