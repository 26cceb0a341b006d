"""Payments requested through the API service (the HTTP layer is tested in tests/api)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.helpers import count_rows
from tests.services.payments.factories import VALID_IBAN
from vaulta.extensions import db
from vaulta.models import Account, AuditEvent, Payment, User
from vaulta.models.payment import PAYMENT_PENDING
from vaulta.services.errors import InvalidInput
from vaulta.services.payments.api_payments import request_payment_via_api
from vaulta.services.payments.payment_creation import PaymentOrder


def _order(source: Account, bic: str = "", **changes: object) -> PaymentOrder:
    fields: dict[str, object] = {
        "from_account": source.number,
        "amount_minor": 500,
        "currency": source.currency,
        "reference": "Order 9",
        "beneficiary_name": "Acme Ltd",
        "beneficiary_iban": VALID_IBAN,
        "beneficiary_bic": bic,
    }
    return PaymentOrder(**{**fields, **changes})  # type: ignore[arg-type]


def _send(user: User, order: PaymentOrder, key: str) -> int:
    stored = request_payment_via_api(
        actor=user,
        order=order,
        idempotency_key=key,
        request_hash=key,
        key_prefix="vk_test",
        render=lambda payment: {"id": payment.id},
    )
    return stored.body["id"]


@pytest.mark.parametrize(("bic", "stored"), [("nwbkgb2l", "NWBKGB2L"), ("", None)])
def test_an_api_payment_keeps_its_bic(
    customer_user: User, source: Account, bic: str, stored: str | None
) -> None:
    payment_id = _send(customer_user, _order(source, bic), "k-bic")
    assert db.session.get(Payment, payment_id).beneficiary_bic == stored


def test_an_api_payment_is_confirmed_at_once_and_audited_with_the_key_prefix(
    customer_user: User, source: Account
) -> None:
    payment = db.session.get(Payment, _send(customer_user, _order(source), "k-1"))
    assert payment.status == PAYMENT_PENDING
    assert payment.confirmed_at is not None
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.object_type == "payment"))
    assert event.action == "payment.request_api"
    assert event.details["api_key_prefix"] == "vk_test"


def test_the_same_key_replays_without_a_second_payment(
    customer_user: User, source: Account
) -> None:
    first = _send(customer_user, _order(source), "k-same")
    assert _send(customer_user, _order(source), "k-same") == first
    assert count_rows(Payment) == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"beneficiary_bic": "NWBKGB"}, "beneficiary.bic", "8 or 11 characters"),
        ({"beneficiary_iban": "GB00WEST12345698765432"}, "beneficiary.iban", "check digits"),
        ({"beneficiary_name": "  "}, "beneficiary.name", "Enter the beneficiary's name"),
        ({"amount_minor": 10**12}, "amount_minor", "at most"),
        ({"currency": "USD"}, "currency", "holds EUR"),
    ],
)
def test_refused_fields_are_named_as_the_json_body_names_them(
    customer_user: User, source: Account, changes: dict, field: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as err:
        _send(customer_user, _order(source, **changes), "k-bad")
    assert err.value.field == field
    assert count_rows(Payment) == 0
