"""Names, references, descriptions and reasons refuse invisible text-direction (bidi) and
control characters (display spoofing): the same rule in the forms (a 422 field error) and
in the services (InvalidInput naming the field), from vaulta/text.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests import factories
from tests.services.payments.factories import VALID_IBAN, make_payment
from tests.webclient import WebClient
from vaulta.models import Account, User
from vaulta.services import ledger
from vaulta.services.banking import customers
from vaulta.services.errors import InvalidInput
from vaulta.services.identity import api_keys, users
from vaulta.services.payments import approvals, payment_queries, payment_requests
from vaulta.text import BIDI_CONTROLS, display_problem

BIDI = sorted(BIDI_CONTROLS)
SPOOF = "Invoice \u202egnp.exe"  # shows as "Invoice exe.png"


@pytest.mark.parametrize("char", BIDI, ids=lambda c: f"U+{ord(c):04X}")
def test_every_bidi_control_is_refused_with_its_name(char: str) -> None:
    problem = display_problem(f"Acme{char} Ltd")
    assert problem is not None
    assert f"U+{ord(char):04X}" in problem
    assert "text-direction" in problem


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9f", "\ud800"])
def test_control_characters_are_refused(char: str) -> None:
    assert "control character" in (display_problem(f"a{char}b") or "")


@pytest.mark.parametrize(
    "text", ["Zoë Ørsted-Łukasz", "مرحبا بالعالم", "שלום", "東京 🏦", "line one\nline two\tend", ""]
)
def test_ordinary_text_of_any_script_is_accepted(text: str) -> None:
    assert display_problem(text) is None


def _payment_reference(user: User, account: Account, text: str) -> None:
    payment_requests.create_request(
        actor=user,
        from_account=account.number,
        beneficiary_name="Acme",
        beneficiary_iban=VALID_IBAN,
        amount="1.00",
        reference=text,
    )


def _beneficiary_name(user: User, account: Account, text: str) -> None:
    payment_requests.create_request(
        actor=user,
        from_account=account.number,
        beneficiary_name=text,
        beneficiary_iban=VALID_IBAN,
        amount="1.00",
        reference="Rent",
    )


def _customer_name(user: User, account: Account, text: str) -> None:
    customers.create_customer(full_name=text, actor=factories.make_admin())


def _customer_address(user: User, account: Account, text: str) -> None:
    customers.create_customer(full_name="Ann", address=text, actor=factories.make_admin())


def _description(user: User, account: Account, text: str) -> None:
    ledger.deposit(account, 100, actor=factories.make_admin(), description=text)


def _reversal_reason(user: User, account: Account, text: str) -> None:
    tx = ledger.deposit(account, 100, actor=factories.make_admin(), description="Cash")
    ledger.reverse(tx.id, actor=factories.make_admin(), reason=text)


def _key_name(user: User, account: Account, text: str) -> None:
    api_keys.create(user, text, ["read"])


def _rejection_reason(user: User, account: Account, text: str) -> None:
    payment = make_payment(user, account)
    approvals.reject(payment.id, actor=factories.make_admin(), reason=text)


def _login_name(user: User, account: Account, text: str) -> None:
    users.create_user(
        "named@example.test", factories.PASSWORD, role="staff", full_name=text, customer=None
    )


SERVICES: dict[str, tuple[Callable[[User, Account, str], None], str]] = {
    "payment reference": (_payment_reference, "reference"),
    "beneficiary name": (_beneficiary_name, "beneficiary_name"),
    "customer name": (_customer_name, "full_name"),
    "customer address": (_customer_address, "address"),
    "transaction description": (_description, "description"),
    "reversal reason": (_reversal_reason, "reason"),
    "API key name": (_key_name, "name"),
    "rejection reason": (_rejection_reason, "reason"),
    "login name": (_login_name, "full_name"),
}


@pytest.mark.parametrize("case", list(SERVICES))
def test_services_refuse_bidi_controls_naming_the_field(customer_user: User, case: str) -> None:
    account = factories.make_account(factories.customer_of(customer_user), "EUR", 10_000)
    call, field = SERVICES[case]
    with pytest.raises(InvalidInput) as refused:
        call(customer_user, account, SPOOF)
    assert refused.value.field == field
    assert "U+202E (RIGHT-TO-LEFT OVERRIDE)" in refused.value.message


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize(
    ("path", "data", "field"),
    [
        ("/admin/customers/new", {"full_name": SPOOF}, "full_name"),
        ("/admin/customers/new", {"full_name": "Ann", "address": "1 Main St\u2067"}, "address"),
    ],
)
def test_the_customer_form_shows_a_422_field_error(
    teller_client: WebClient, htmx: bool, path: str, data: dict[str, str], field: str
) -> None:
    if htmx:
        response = teller_client.htmx("POST", path, data=data)
    else:
        response = teller_client.post_form(path, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'<small id="{field}-error" class="field-error">Remove the invisible' in html


def test_the_payment_form_shows_a_422_field_error(
    customer_client: WebClient, customer_user: User
) -> None:
    account = factories.make_account(factories.customer_of(customer_user), "EUR", 10_000)
    data = {
        "from_account": account.number,
        "beneficiary_name": "Acme",
        "beneficiary_iban": VALID_IBAN,
        "amount": "1.00",
        "reference": SPOOF,
        "idempotency_key": "11111111-2222-3333-4444-555555555555",
    }
    response = customer_client.post_form("/payments/new", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "U+202E (RIGHT-TO-LEFT OVERRIDE)" in html
    assert payment_queries.list_for_customer(account.customer_id) == []


def test_the_api_key_form_shows_a_422_field_error(customer_client: WebClient) -> None:
    response = customer_client.post_form(
        "/settings/api-keys", {"name": "CI\u202a", "scopes": ["read"]}
    )
    assert response.status_code == 422
    assert "U+202A (LEFT-TO-RIGHT EMBEDDING)" in response.get_data(as_text=True)
