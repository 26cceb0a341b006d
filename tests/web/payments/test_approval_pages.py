"""The admin approval queue: access, filters, inline and bulk decisions, step-up, nav count."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.services.payments.factories import last_code, make_payment, status_of
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import Account, Payment, User
from vaulta.services import approval_queue


def _status(payment: Payment) -> str:
    return status_of(payment.id)


@pytest.mark.parametrize(("who", "status"), [("anonymous", 302), ("customer", 403), ("admin", 200)])
@pytest.mark.parametrize("path", ["/admin/approvals/", "/admin/approvals/count"])
def test_access(
    client: WebClient, admin: User, customer_user: User, who: str, status: int, path: str
) -> None:
    if who != "anonymous":
        client.sign_in(admin if who == "admin" else customer_user)
    assert client.get(path).status_code == status


def test_customers_cannot_decide(
    customer_client: WebClient, customer_user: User, source: Account
) -> None:
    payment = make_payment(customer_user, source)
    response = customer_client.post_form(f"/admin/approvals/{payment.id}/approve")
    assert response.status_code == 403
    assert _status(payment) == "pending_approval"


def test_queue_page_partial_and_nav_count(
    admin_client: WebClient, customer_user: User, source: Account
) -> None:
    payment = make_payment(customer_user, source, amount="42.00")
    page = admin_client.get("/admin/approvals/")
    html = page.get_data(as_text=True)
    assert f'id="payment-row-{payment.id}"' in html
    assert "42.00 EUR" in html
    # The badge loads its number from the count endpoint after the page, then on every decision.
    assert 'id="approvals-count"' in html
    assert 'hx-get="/admin/approvals/count"' in html
    assert 'hx-trigger="load, payments-changed from:body"' in html
    partial = admin_client.htmx("GET", "/admin/approvals/?currency=USD")
    text = partial.get_data(as_text=True)
    assert "<html" not in text
    assert "No payments wait for approval." in text
    assert "HX-Request" in partial.headers["Vary"]
    count = admin_client.htmx("GET", "/admin/approvals/count").get_data(as_text=True)
    assert ">1</mark>" in count
    assert 'hx-trigger="payments-changed from:body"' in count


def test_bad_amount_filter_is_shown_on_its_field(admin_client: WebClient) -> None:
    response = admin_client.get("/admin/approvals/?min_amount=lots")
    assert response.status_code == 422
    assert "Enter an amount like 100" in response.get_data(as_text=True)


def test_htmx_approve_swaps_the_row_and_signals_the_count(
    admin_client: WebClient, customer_user: User, source: Account
) -> None:
    payment = make_payment(customer_user, source)
    response = admin_client.htmx("POST", f"/admin/approvals/{payment.id}/approve", data={})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="payment-row-{payment.id}" data-status="executed"')
    assert f"PAY-{payment.id}" in html
    assert response.headers["HX-Trigger"] == "payments-changed"
    assert _status(payment) == "executed"


def test_plain_approve_redirects_with_a_message(
    admin_client: WebClient, customer_user: User, source: Account
) -> None:
    payment = make_payment(customer_user, source)
    response = admin_client.post_form(f"/admin/approvals/{payment.id}/approve")
    assert response.status_code == 302
    assert response.location == "/admin/approvals/"
    assert "is executed" in admin_client.get("/admin/approvals/").get_data(as_text=True)


def test_reject_needs_a_reason(
    admin_client: WebClient, customer_user: User, source: Account
) -> None:
    payment = make_payment(customer_user, source)
    url = f"/admin/approvals/{payment.id}/reject"
    missing = admin_client.htmx("POST", url, data={"reason": " "})
    assert missing.status_code == 422
    assert "Give the customer a reason" in missing.get_data(as_text=True)
    done = admin_client.htmx("POST", url, data={"reason": "Unknown payee"})
    assert 'data-status="rejected"' in done.get_data(as_text=True)
    assert "Rejected: Unknown payee" in done.get_data(as_text=True)
    assert _status(payment) == "rejected"


def test_post_without_csrf_is_refused(
    admin_client: WebClient, customer_user: User, source: Account
) -> None:
    payment = make_payment(customer_user, source)
    assert admin_client.post(f"/admin/approvals/{payment.id}/approve").status_code == 400
    assert _status(payment) == "pending_approval"


@pytest.mark.parametrize("htmx", [False, True])
def test_already_decided_is_a_clear_conflict(
    admin_client: WebClient, customer_user: User, source: Account, htmx: bool
) -> None:
    payment = make_payment(customer_user, source)
    url = f"/admin/approvals/{payment.id}/approve"
    admin_client.post_form(url)
    if htmx:
        response = admin_client.htmx("POST", url, data={})
        assert response.status_code == 409
        assert response.headers["HX-Retarget"] == "#messages"
        assert "already decided" in response.get_data(as_text=True)
    else:
        response = admin_client.post_form(url)
        assert response.status_code == 302
        assert "already decided" in admin_client.get(response.location).get_data(as_text=True)


def test_four_eyes_refusal_is_explained(
    client: WebClient, admin: User, customer_user: User, source: Account
) -> None:
    payment = make_payment(customer_user, source)
    db.session.execute(
        sa.update(Payment).where(Payment.id == payment.id).values(requested_by_id=admin.id)
    )
    db.session.commit()
    client.sign_in(admin)
    response = client.htmx("POST", f"/admin/approvals/{payment.id}/approve", data={})
    assert response.status_code == 403
    assert "Four eyes" in response.get_data(as_text=True)
    assert _status(payment) == "pending_approval"


def test_step_up_asks_for_a_code_then_approves(
    app: Flask, admin_client: WebClient, admin: User, customer_user: User, source: Account
) -> None:
    app.config["APPROVAL_STEP_UP_THRESHOLD_MINOR"] = 10_000
    payment = make_payment(customer_user, source, amount="100.00")
    url = f"/admin/approvals/{payment.id}/approve"
    asked = admin_client.htmx("POST", url, data={})
    assert asked.status_code == 200
    assert f'id="code-{payment.id}"' in asked.get_data(as_text=True)
    assert _status(payment) == "pending_approval"
    wrong = admin_client.htmx("POST", url, data={"code": "12"})
    assert wrong.status_code == 422
    assert "The code has 6 digits." in wrong.get_data(as_text=True)
    done = admin_client.htmx("POST", url, data={"code": last_code(admin.email)})
    assert 'data-status="executed"' in done.get_data(as_text=True)


def test_step_up_without_javascript(
    app: Flask, admin_client: WebClient, admin: User, customer_user: User, source: Account
) -> None:
    app.config["APPROVAL_STEP_UP_THRESHOLD_MINOR"] = 10_000
    payment = make_payment(customer_user, source, amount="100.00")
    asked = admin_client.post_form(f"/admin/approvals/{payment.id}/approve")
    assert asked.location == f"/admin/approvals/?step_up={payment.id}"
    assert f'id="code-{payment.id}"' in admin_client.get(asked.location).get_data(as_text=True)
    done = admin_client.post_form(
        f"/admin/approvals/{payment.id}/approve", {"code": last_code(admin.email)}
    )
    assert done.status_code == 302
    assert _status(payment) == "executed"


def test_bulk_reports_a_result_per_row(
    admin_client: WebClient, customer_user: User, source: Account, target: Account
) -> None:
    ok = make_payment(customer_user, source, to=target, amount="900.00")
    poor = make_payment(customer_user, source, to=target, amount="200.00")
    response = admin_client.htmx(
        "POST",
        "/admin/approvals/bulk",
        data={"payment_ids": [str(ok.id), str(poor.id)], "action": "approve"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "payments-changed"
    assert f"Payment #{ok.id}: executed" in html
    assert f"Payment #{poor.id}: failed: Insufficient funds" in html
    none = admin_client.post_form("/admin/approvals/bulk", {"action": "approve"})
    assert none.status_code == 422


def test_queue_pages_keep_the_filters(
    monkeypatch: pytest.MonkeyPatch, admin_client: WebClient, customer_user: User, source: Account
) -> None:
    monkeypatch.setattr(approval_queue, "QUEUE_LIMIT", 1)
    first = make_payment(customer_user, source, amount="42.00")
    second = make_payment(customer_user, source, amount="43.00")
    html = admin_client.get("/admin/approvals/?currency=EUR").get_data(as_text=True)
    assert f'id="payment-row-{first.id}"' in html
    assert f'id="payment-row-{second.id}"' not in html
    next_url = f"/admin/approvals/?currency=EUR&amp;sort=oldest&amp;after={first.id}"
    assert f'href="{next_url}"' in html
    page_two = admin_client.htmx("GET", next_url.replace("&amp;", "&"))
    text = page_two.get_data(as_text=True)
    assert "<html" not in text
    assert f'id="payment-row-{second.id}"' in text
    assert f'id="payment-row-{first.id}"' not in text
    assert 'href="/admin/approvals/?currency=EUR&amp;sort=oldest" hx-get=' in text
    assert "First page" in text
    assert "Next page" not in text


def test_reason_label_points_at_its_input(
    admin_client: WebClient, customer_user: User, source: Account
) -> None:
    payment = make_payment(customer_user, source)
    html = admin_client.get("/admin/approvals/").get_data(as_text=True)
    assert f'<label for="reason-{payment.id}">' in html
    assert f'<input id="reason-{payment.id}"' in html
