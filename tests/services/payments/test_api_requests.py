"""Payments requested through the API service (the HTTP layer is tested in tests/api)."""

from __future__ import annotations

import pytest

from tests.helpers import count_rows
from tests.services.payments.factories import VALID_IBAN
from vaulta.extensions import db
from vaulta.models import Account, Payment, User
from vaulta.services.errors import InvalidInput
from vaulta.services.payments.api_payments import ApiPaymentRequest, request_payment_via_api


def _request(source: Account, bic: str | None) -> ApiPaymentRequest:
    return ApiPaymentRequest(
        from_account=source.number,
        amount_minor=500,
        currency=source.currency,
        reference="Order 9",
        beneficiary_name="Acme Ltd",
        beneficiary_iban=VALID_IBAN,
        beneficiary_bic=bic,
    )


def _send(user: User, request: ApiPaymentRequest, key: str) -> int:
    stored = request_payment_via_api(
        actor=user,
        request=request,
        idempotency_key=key,
        request_hash=key,
        key_prefix="vk_test",
        render=lambda payment: {"id": payment.id},
    )
    return stored.body["id"]


@pytest.mark.parametrize(("bic", "stored"), [("nwbkgb2l", "NWBKGB2L"), (None, None)])
def test_an_api_payment_keeps_its_bic(
    customer_user: User, source: Account, bic: str | None, stored: str | None
) -> None:
    payment_id = _send(customer_user, _request(source, bic), "k-bic")
    assert db.session.get(Payment, payment_id).beneficiary_bic == stored


def test_an_invalid_bic_names_the_api_field(customer_user: User, source: Account) -> None:
    with pytest.raises(InvalidInput, match="8 or 11 characters") as err:
        _send(customer_user, _request(source, "NWBKGB"), "k-bad-bic")
    assert err.value.field == "beneficiary.bic"
    assert count_rows(Payment) == 0
