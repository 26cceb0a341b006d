"""A teller enters a one-off payment on a customer's behalf: it awaits approval as a change
request the teller made, which the teller cannot decide and an approver can."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import Account, AuditEvent, ChangeRequest, Customer, Payment, User
from vaulta.models.customer import CUSTOMER_SUSPENDED
from vaulta.services.errors import Forbidden, InvalidInput
from vaulta.services.payments import staff_payments
from vaulta.services.payments.payment_creation import PaymentOrder

VALID_IBAN = "GB82WEST12345698765432"


def _url(account: Account) -> str:
    return f"/admin/customers/{account.customer_id}/payments/new"


def _fields(source: Account, **changes: str) -> dict[str, str]:
    return {
        "from_account": source.number,
        "to_account": "",
        "beneficiary_name": "Acme Ltd",
        "beneficiary_iban": VALID_IBAN,
        "beneficiary_bic": "",
        "amount": "25.00",
        "reference": "Invoice 7",
        "idempotency_key": "staff-form-1",
        **changes,
    }


def _payments() -> list[Payment]:
    return list(db.session.scalars(sa.select(Payment).order_by(Payment.id)))


def _balance(account: Account) -> int:
    return db.session.scalar(sa.select(Account.balance_minor).where(Account.id == account.id))


def test_the_customer_page_links_the_form_for_tellers_only(
    teller_client: WebClient, client: WebClient, source: Account, approver: User
) -> None:
    link = _url(source)
    assert link in teller_client.get(f"/admin/customers/{source.customer_id}").text
    page = teller_client.get(link)
    assert page.status_code == 200
    assert 'name="csrf_token"' in page.text
    assert 'name="idempotency_key"' in page.text
    assert source.number in page.text
    client.sign_in(approver)
    assert link not in client.get(f"/admin/customers/{source.customer_id}").text
    assert client.get(link).status_code == 403


def test_a_teller_enters_a_payment_that_awaits_approval_by_someone_else(
    teller_client: WebClient,
    client: WebClient,
    teller: User,
    approver: User,
    source: Account,
    target: Account,
) -> None:
    response = teller_client.post_form(
        _url(source),
        _fields(source, to_account=target.number, beneficiary_name="", beneficiary_iban=""),
    )
    assert response.status_code == 302, response.text
    [payment] = _payments()
    assert (payment.status, payment.requested_by_id) == ("pending_approval", teller.id)
    assert (payment.amount_minor, payment.beneficiary_account_id) == (2_500, target.id)
    request = db.session.get(ChangeRequest, payment.change_request_id)
    assert request is not None
    assert (request.action, request.maker_id, request.status) == (
        "payments.payment",
        teller.id,
        "pending",
    )
    assert response.location == f"/admin/requests/{request.id}"
    page = teller_client.get(response.location).text
    assert f"Request #{request.id}</a> for 25.00 EUR awaits approval." in page
    event = db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.object_type == "payment", AuditEvent.object_id == str(payment.id)
        )
    )
    assert event is not None
    assert (event.action, event.actor_id) == ("payment.request_staff", teller.id)
    assert event.details["customer_id"] == source.customer_id
    # The teller decides nothing: not in the queue, not in the inbox.
    assert teller_client.post_form(f"/admin/approvals/{payment.id}/approve").status_code == 403
    assert teller_client.post_form(f"/admin/requests/{request.id}/approve").status_code == 403
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status == "pending_approval"
    assert _balance(target) == 0
    # An approver does, and the money moves.
    client.sign_in(approver)
    decided = client.post_form(f"/admin/approvals/{payment.id}/approve")
    assert decided.status_code == 302
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status == "executed"
    assert (_balance(source), _balance(target)) == (100_000 - 2_500, 2_500)


def test_a_double_submit_makes_one_payment(teller_client: WebClient, source: Account) -> None:
    first = teller_client.post_form(_url(source), _fields(source))
    second = teller_client.post_form(_url(source), _fields(source))
    assert first.status_code == second.status_code == 302
    assert first.location == second.location
    [payment] = _payments()
    assert payment.beneficiary_iban == VALID_IBAN
    assert "already pending" in teller_client.get(second.location).text


def test_invalid_input_is_422_with_the_fields_errors_and_nothing_made(
    teller_client: WebClient, source: Account
) -> None:
    response = teller_client.post_form(_url(source), _fields(source, amount="", reference="Rent"))
    assert response.status_code == 422
    assert "Enter an amount." in response.text
    response = teller_client.htmx(
        "POST", _url(source), data=_fields(source, beneficiary_iban="GB82WEST12345698765433")
    )
    assert response.status_code == 422
    assert response.text.lstrip().startswith('<form id="staff-payment-form"')
    assert 'id="beneficiary_iban-error"' in response.text
    response = teller_client.post_form(_url(source), _fields(source, amount="-5"))
    assert response.status_code == 422
    assert 'id="amount-error"' in response.text
    assert _payments() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ChangeRequest)) == 0


def test_another_customers_account_cannot_pay(
    teller_client: WebClient, source: Account, target: Account
) -> None:
    """The form of the target's customer, posted with the source's account: refused."""
    response = teller_client.post_form(_url(target), _fields(source))
    assert response.status_code == 422
    assert 'id="from_account-error"' in response.text
    assert _payments() == []
    assert teller_client.get("/admin/customers/999999/payments/new").status_code == 404


def test_customers_cannot_enter_payments_for_anyone(
    customer_client: WebClient, source: Account
) -> None:
    response = customer_client.post_form(_url(source), _fields(source))
    assert response.status_code == 403
    assert _payments() == []


def test_the_service_refuses_another_customers_account_and_non_tellers(
    teller: User, approver: User, source: Account, target: Account
) -> None:
    order = PaymentOrder(
        from_account=source.number,
        reference="Rent",
        amount="5.00",
        to_account=target.number,
    )
    with pytest.raises(InvalidInput) as refused:
        staff_payments.enter_for_customer(actor=teller, customer_id=target.customer_id, order=order)
    assert refused.value.field == "from_account"
    with pytest.raises(Forbidden):
        staff_payments.enter_for_customer(
            actor=approver, customer_id=source.customer_id, order=order
        )
    assert _payments() == []


def test_a_suspended_customer_pays_nothing_and_the_form_says_why(
    teller_client: WebClient, source: Account
) -> None:
    customer = db.session.get(Customer, source.customer_id)
    assert customer is not None
    customer.status = CUSTOMER_SUSPENDED
    db.session.commit()
    assert _url(source) not in teller_client.get(f"/admin/customers/{customer.id}").text
    response = teller_client.post_form(_url(source), _fields(source))
    assert response.status_code == 409
    assert 'id="staff-payment-form"' in response.text
    assert "payments are paused" in response.text
    assert _payments() == []
