"""The approval queue, the checker inbox and the customer's payment page show a payment's
levels: a 12,000.00 payment needs two approvers (the same one twice: 409), the second with a
step-up code; a level decided in the inbox is the queue's level too."""

from __future__ import annotations

from tests import factories
from tests.helpers import mailed_code
from tests.services.payments.factories import make_payment, status_of
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import Account, Payment, User

SUBJECT = "VAULTA approval code for payment #{id}"


def _big_payment(customer_user: User, target: Account) -> Payment:
    rich = factories.make_account(factories.customer_of(customer_user), "EUR", 5_000_000)
    return make_payment(customer_user, rich, to=target, amount="12000.00")


def test_the_queue_records_level_one_then_the_second_approver_steps_up(
    client: WebClient, approver: User, second_approver: User, customer_user: User, target: Account
) -> None:
    payment = _big_payment(customer_user, target)
    url = f"/admin/approvals/{payment.id}/approve"
    client.sign_in(approver)
    assert "0 of 2 approvals" in client.get("/admin/approvals/").get_data(as_text=True)
    first = client.htmx("POST", url, data={})
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    assert 'data-status="pending_approval"' in html
    assert "1 of 2 approvals" in html
    assert client.htmx("POST", url, data={}).status_code == 409  # the same person twice
    plain = client.post_form(url)
    assert plain.status_code == 302
    assert status_of(payment.id) == "pending_approval"

    client.sign_in(second_approver)
    asked = client.htmx("POST", url, data={})
    assert f'id="code-{payment.id}"' in asked.get_data(as_text=True)
    code = mailed_code(second_approver.email, SUBJECT.format(id=payment.id))
    done = client.htmx("POST", url, data={"code": code})
    assert 'data-status="executed"' in done.get_data(as_text=True)
    assert status_of(payment.id) == "executed"


def test_a_level_decided_in_the_inbox_shows_in_the_queue_and_on_the_customers_page(
    client: WebClient, approver: User, second_approver: User, customer_user: User, target: Account
) -> None:
    payment = _big_payment(customer_user, target)
    request_id = db.session.get(Payment, payment.id).change_request_id  # type: ignore[union-attr]
    client.sign_in(approver)
    inbox = client.get("/admin/inbox").get_data(as_text=True)
    assert f"request-row-{request_id}" in inbox
    assert client.htmx("POST", f"/admin/requests/{request_id}/approve", data={}).status_code == 200
    assert "1 of 2 approvals" in client.get("/admin/approvals/").get_data(as_text=True)
    again = client.htmx("POST", f"/admin/approvals/{payment.id}/approve", data={})
    assert again.status_code == 409

    client.sign_in(customer_user)
    page = client.get(f"/payments/{payment.id}").get_data(as_text=True)
    assert "1 of 2 approvals given" in page
    assert "Level 1: approved" in page

    client.sign_in(second_approver)
    sent = client.htmx("POST", f"/admin/requests/{request_id}/code", data={})
    assert sent.status_code == 200
    code = mailed_code(second_approver.email, SUBJECT.format(id=payment.id))
    done = client.htmx("POST", f"/admin/requests/{request_id}/approve", data={"code": code})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert status_of(payment.id) == "executed"
