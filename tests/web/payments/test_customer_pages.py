"""Customers' payment pages: request with live checks, confirm by code, list, cancel, access."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories
from tests.helpers import count_rows, mailed_code, outbox
from tests.services.payments.factories import VALID_IBAN, make_payment, status_of
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import Account, Payment, User
from vaulta.services.payments import approvals


def _form(source: Account, **fields: str) -> dict[str, str]:
    data = {
        "from_account": source.number,
        "to_account": "",
        "beneficiary_name": "",
        "beneficiary_iban": "",
        "beneficiary_bic": "",
        "amount": "12.50",
        "reference": "Rent",
        "idempotency_key": "11111111-2222-3333-4444-555555555555",
    }
    data.update(fields)
    return data


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("customer", 200), ("admin", 403)],
)
@pytest.mark.parametrize("path", ["/payments/", "/payments/new"])
def test_access(
    client: WebClient, admin: User, customer_user: User, who: str, status: int, path: str
) -> None:
    if who != "anonymous":
        client.sign_in(admin if who == "admin" else customer_user)
    assert client.get(path).status_code == status


def test_request_confirm_and_see_it_listed(
    customer_client: WebClient, customer_user: User, source: Account, target: Account
) -> None:
    page = customer_client.get("/payments/new").get_data(as_text=True)
    assert source.number in page
    assert 'name="idempotency_key"' in page
    response = customer_client.post_form("/payments/new", _form(source, to_account=target.number))
    assert response.status_code == 302
    db.session.rollback()
    payment = db.session.scalars(sa.select(Payment)).one()
    assert response.location == f"/payments/{payment.id}/confirm"
    assert payment.status == "awaiting_confirmation"
    wrong = customer_client.post_form(response.location, {"code": "12345"})
    assert wrong.status_code == 422
    assert "The code has 6 digits." in wrong.get_data(as_text=True)
    code = mailed_code(customer_user.email)
    done = customer_client.post_form(response.location, {"code": code})
    assert done.status_code == 302
    assert done.location == f"/payments/{payment.id}"
    listing = customer_client.get("/payments/").get_data(as_text=True)
    assert "pending approval" in listing
    assert "12.50 EUR" in listing


def test_a_resubmitted_form_makes_one_payment(customer_client: WebClient, source: Account) -> None:
    data = _form(source, beneficiary_name="Acme", beneficiary_iban=VALID_IBAN)
    first = customer_client.post_form("/payments/new", data)
    second = customer_client.post_form("/payments/new", data)
    assert first.location == second.location
    db.session.rollback()
    assert count_rows(Payment) == 1
    assert len(outbox()) == 1


@pytest.mark.parametrize("htmx", [False, True])
def test_invalid_request_rerenders_the_form_with_the_error_in_place(
    customer_client: WebClient, source: Account, htmx: bool
) -> None:
    data = _form(source, beneficiary_name="Acme", beneficiary_iban="GB82 WEST 1234 5698 7654 33")
    if htmx:
        response = customer_client.htmx("POST", "/payments/new", data=data)
    else:
        response = customer_client.post_form("/payments/new", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "check digits do not match" in html
    assert 'id="beneficiary_iban-error"' in html
    assert ("<html" in html) is not htmx
    assert "HX-Request" in response.headers["Vary"]


def test_an_external_payment_with_a_bic_shows_it(
    customer_client: WebClient, source: Account
) -> None:
    data = _form(
        source, beneficiary_name="Acme", beneficiary_iban=VALID_IBAN, beneficiary_bic="nwbkgb2l"
    )
    response = customer_client.post_form("/payments/new", data)
    assert response.status_code == 302
    db.session.rollback()
    payment = db.session.scalars(sa.select(Payment)).one()
    assert payment.beneficiary_bic == "NWBKGB2L"
    page = customer_client.get(f"/payments/{payment.id}").get_data(as_text=True)
    assert "GB82 WEST 1234 5698 7654 32 · BIC NWBKGB2L" in page


def test_request_without_csrf_token_is_refused(customer_client: WebClient, source: Account) -> None:
    assert customer_client.post("/payments/new", data=_form(source)).status_code == 400


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("to_account", "9999999999", "no open VAULTA account"),
        ("to_account", "SOURCE", "other than the one"),
        ("beneficiary_iban", "GB82 WEST 1234", "22 characters"),
        ("amount", "1.234", "2 decimal places"),
        ("amount", "12.34", None),
        ("beneficiary_iban", VALID_IBAN, None),
        ("beneficiary_name", "Acme \u202eLtd", "invisible text-direction character U+202E"),
        ("beneficiary_name", "Acme Ltd", None),
        ("beneficiary_bic", "DEUTZZFF", "ZZ in this BIC is not a country code."),
        ("beneficiary_bic", "deut de ff", None),
    ],
)
def test_fields_are_checked_as_they_are_typed(
    customer_client: WebClient, source: Account, name: str, value: str, message: str | None
) -> None:
    value = source.number if value == "SOURCE" else value
    response = customer_client.htmx(
        "POST", f"/payments/validate/{name}", data=_form(source, **{name: value})
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<div class="field" id="field-{name}">')
    if message:
        assert message in html
        assert 'aria-invalid="true"' in html
    else:
        assert "field-error" not in html


def test_customer_cancels_a_pending_payment(
    customer_client: WebClient, customer_user: User, source: Account
) -> None:
    payment = make_payment(customer_user, source)
    response = customer_client.post_form(f"/payments/{payment.id}/cancel")
    assert response.status_code == 302
    assert "cancelled" in customer_client.get(response.location).get_data(as_text=True)
    again = customer_client.post_form(f"/payments/{payment.id}/cancel")
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("GET", "/confirm"), ("POST", "/confirm"), ("POST", "/cancel")],
)
def test_another_customers_payment_is_not_found(
    client: WebClient,
    customer_user: User,
    other_customer_user: User,
    source: Account,
    method: str,
    suffix: str,
) -> None:
    payment = make_payment(customer_user, source, confirm=False)
    client.sign_in(other_customer_user)
    url = f"/payments/{payment.id}{suffix}"
    response = client.get(url) if method == "GET" else client.post_form(url, {"code": "123456"})
    assert response.status_code == 404
    assert status_of(payment.id) == "awaiting_confirmation"


def test_customer_sees_approver_rejection_and_transaction(
    customer_client: WebClient, customer_user: User, approver: User, source: Account
) -> None:
    executed = approvals.approve(make_payment(customer_user, source).id, actor=approver)
    approvals.reject(make_payment(customer_user, source).id, actor=approver, reason="Odd IBAN")
    html = customer_client.get("/payments/").get_data(as_text=True)
    assert f"Approved by {approver.full_name}" in html
    assert "Rejected: Odd IBAN" in html
    assert f"Transaction #{executed.transaction_id} · PAY-{executed.id}" in html
    assert "GB82 WEST 1234 5698 7654 32" in html


def test_dev_outbox_lists_mail_newest_first_and_only_in_development(
    app: object, client: WebClient, customer_user: User, source: Account
) -> None:
    make_payment(customer_user, source, confirm=False)
    customer_client = client
    customer_client.sign_in(customer_user)
    customer_client.post_form("/payments/1/resend")
    html = customer_client.get("/dev/outbox").get_data(as_text=True)
    assert "Your code to confirm payment #1" in html
    app.config["MAIL_BACKEND"] = "smtp"  # type: ignore[attr-defined]
    assert customer_client.get("/dev/outbox").status_code == 404
    app.config.update(MAIL_BACKEND="console", NAME="production")  # type: ignore[attr-defined]
    assert customer_client.get("/dev/outbox").status_code == 404


def test_new_payment_page_without_accounts(client: WebClient) -> None:
    user = factories.make_customer_login()
    client.sign_in(user)
    assert "no open account" in client.get("/payments/new").get_data(as_text=True)
