"""The one payment service behind the web form and the API: check an order, add a payment."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.services.payments.factories import VALID_IBAN
from vaulta.extensions import db
from vaulta.models import Account, AuditEvent, Payment, User, utcnow
from vaulta.models.payment import PAYMENT_AWAITING, PAYMENT_PENDING
from vaulta.services.errors import InvalidInput
from vaulta.services.payments.payment_creation import PaymentOrder, add_payment, check_order
from vaulta.services.unit_of_work import write_transaction


def test_typed_text_and_minor_units_check_to_the_same_payment(
    customer_user: User, source: Account, target: Account
) -> None:
    typed = PaymentOrder(
        from_account=source.number,
        reference=" Rent  May ",
        amount="12.50",
        to_account=target.number,
    )
    minor = PaymentOrder(
        from_account=source.number,
        reference="Rent May",
        amount_minor=1250,
        currency="EUR",
        to_account=target.number,
    )
    assert check_order(customer_user, typed) == check_order(customer_user, minor)
    checked = check_order(customer_user, minor)
    assert (checked.source.id, checked.target.id) == (source.id, target.id)  # type: ignore[union-attr]
    assert (checked.amount_minor, checked.reference) == (1250, "Rent May")


def test_an_external_beneficiary_is_normalised(customer_user: User, source: Account) -> None:
    order = PaymentOrder(
        from_account=source.number,
        reference="Order 7",
        amount="5",
        beneficiary_name="Acme Ltd",
        beneficiary_iban="gb82 west 1234 5698 7654 32",
        beneficiary_bic="nwbkgb2l",
    )
    checked = check_order(customer_user, order)
    assert checked.target is None
    assert (checked.beneficiary_iban, checked.beneficiary_bic) == (VALID_IBAN, "NWBKGB2L")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "", "amount_minor": 0}, "amount"),
        ({"amount": "", "amount_minor": 1250, "currency": "GBP"}, "currency"),
        ({"from_account": "0000000000"}, "from_account"),
        ({"beneficiary_iban": VALID_IBAN}, "to_account"),  # both targets
        ({"beneficiary_bic": "NWBKGB2L"}, "beneficiary_bic"),  # a BIC for a VAULTA account
        ({"reference": "\u202e"}, "reference"),
    ],
)
def test_a_refused_order_names_its_field_and_writes_nothing(
    customer_user: User, source: Account, target: Account, changes: dict, field: str
) -> None:
    fields: dict = {
        "from_account": source.number,
        "reference": "Rent",
        "amount": "12.50",
        "to_account": target.number,
    }
    with pytest.raises(InvalidInput) as err:
        check_order(customer_user, PaymentOrder(**{**fields, **changes}))
    assert err.value.field == field
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0


@pytest.mark.parametrize(
    ("confirmed", "status"), [(False, PAYMENT_AWAITING), (True, PAYMENT_PENDING)]
)
def test_add_payment_builds_it_and_its_audit_event_in_one_transaction(
    customer_user: User, source: Account, target: Account, confirmed: bool, status: str
) -> None:
    order = PaymentOrder(
        from_account=source.number, reference="Rent", amount="12.50", to_account=target.number
    )
    checked = check_order(customer_user, order)
    now = utcnow()
    with write_transaction() as s:
        payment = add_payment(
            s, customer_user, checked, now=now, confirmed=confirmed, action="payment.test"
        )
    stored = db.session.get(Payment, payment.id)
    assert (stored.status, stored.amount_minor, stored.currency) == (status, 1250, "EUR")
    assert (stored.confirmed_at is not None) is confirmed
    assert stored.expires_at > now
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "payment.test"))
    assert event.details == {
        "amount_minor": 1250,
        "currency": "EUR",
        "from": source.number,
        "to": target.number,
    }
