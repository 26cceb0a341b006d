"""The queue's own controls: "Reject…" opens a row's reason form (htmx swaps the row;
without JavaScript the queue reloads with that row's form open), the filter fields, the
nav badge."""

from __future__ import annotations

import pytest

from tests.services.payments.factories import backdate_expiry, make_payment
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import Account, Payment, User

QUEUE = "/admin/approvals/"


def _row(html: str, payment_id: int) -> str:
    return html.split(f'id="payment-row-{payment_id}"', 1)[1].split("</tr>", 1)[0]


def test_rows_start_with_a_reject_link_not_a_reason_box(
    approver_client: WebClient, customer_user: User, source: Account
) -> None:
    payment = make_payment(customer_user, source)
    row = _row(approver_client.get(QUEUE).get_data(as_text=True), payment.id)
    assert 'name="reason"' not in row
    assert (
        f'<a href="/admin/approvals/?reject={payment.id}" '
        f'hx-get="/admin/approvals/{payment.id}/reject" hx-target="closest tr"'
    ) in row
    assert ">Reject…</a>" in row


def test_htmx_opens_the_reason_form_in_the_row(
    approver_client: WebClient, customer_user: User, source: Account
) -> None:
    payment = make_payment(customer_user, source)
    response = approver_client.htmx("GET", f"/admin/approvals/{payment.id}/reject")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="payment-row-{payment.id}"')
    assert "<html" not in html
    assert f'<label for="reason-{payment.id}">' in html
    assert f'<input id="reason-{payment.id}"' in html
    assert "autofocus" in html
    assert f'action="/admin/approvals/{payment.id}/reject"' in html
    assert f'action="/admin/approvals/{payment.id}/approve"' in html  # approving still works
    assert html.count('name="csrf_token"') == 2


def test_without_htmx_the_queue_opens_with_that_rows_form(
    approver_client: WebClient, customer_user: User, source: Account
) -> None:
    payment = make_payment(customer_user, source)
    other = make_payment(customer_user, source)
    response = approver_client.get(f"/admin/approvals/{payment.id}/reject")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/approvals/?reject={payment.id}"
    html = approver_client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'<input id="reason-{payment.id}"' in _row(html, payment.id)
    assert 'name="reason"' not in _row(html, other.id)


def test_a_refused_reason_keeps_the_form_open(
    approver_client: WebClient, customer_user: User, source: Account
) -> None:
    payment = make_payment(customer_user, source)
    url = f"/admin/approvals/{payment.id}/reject"
    plain = approver_client.post_form(url, {"reason": " "})
    assert plain.status_code == 302
    assert plain.headers["Location"] == f"/admin/approvals/?reject={payment.id}"
    html = approver_client.htmx("POST", url, data={"reason": " "}).get_data(as_text=True)
    assert f'<input id="reason-{payment.id}"' in html
    assert f'aria-describedby="reason-{payment.id}-error"' in html


def test_an_unknown_payment_has_no_reason_form(approver_client: WebClient) -> None:
    assert approver_client.htmx("GET", "/admin/approvals/999999/reject").status_code == 404


def test_filters_escape_what_people_typed(approver_client: WebClient) -> None:
    """What people typed into the filters comes back escaped in the fields."""
    hostile = '"><i>x</i>'
    response = approver_client.get(
        "/admin/approvals/", query_string={"customer": hostile, "min_amount": hostile}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422  # the amount is not a number
    assert "<i>" not in html
    assert (
        'name="customer" placeholder="Name, customer or account number" type="text" '
        'value="&#34;&gt;&lt;i&gt;x&lt;/i&gt;"' in html
    )
    assert 'value="&#34;&gt;&lt;i&gt;x&lt;/i&gt;"' in html.split('name="min_amount"', 1)[1]
    assert '<option selected value="oldest">Oldest first</option>' in html


def test_the_nav_badge_stops_counting_at_its_cap(
    approver_client: WebClient,
    customer_user: User,
    source: Account,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from vaulta.approvals import routes

    for _ in range(3):
        make_payment(customer_user, source)
    monkeypatch.setattr(routes, "BADGE_CAP", 3)
    html = approver_client.htmx("GET", "/admin/approvals/count").get_data(as_text=True)
    assert ">2+</mark>" in html
    assert 'aria-label="more than 2 pending"' in html
    monkeypatch.setattr(routes, "BADGE_CAP", 4)
    html = approver_client.htmx("GET", "/admin/approvals/count").get_data(as_text=True)
    assert ">3</mark>" in html
    assert 'aria-label="3 pending"' in html


def test_the_queue_leaves_out_payments_past_their_expiry_without_writing(
    approver_client: WebClient, customer_user: User, source: Account
) -> None:
    """A page view is a read: an expired payment is not shown, and stays for
    `flask vaulta expire-payments` (or its own page) to mark."""
    kept = make_payment(customer_user, source)
    late = make_payment(customer_user, source)
    backdate_expiry(late)
    html = approver_client.get(QUEUE).get_data(as_text=True)
    assert f'id="payment-row-{kept.id}"' in html
    assert f'id="payment-row-{late.id}"' not in html
    db.session.expire_all()
    assert db.session.get(Payment, late.id).status == "pending_approval"  # type: ignore[union-attr]
    count = approver_client.htmx("GET", "/admin/approvals/count").get_data(as_text=True)
    assert ">1</mark>" in count


def test_queue_filters_read_the_query_string_as_typed() -> None:
    from vaulta.approvals.forms import QueueFilters

    empty = QueueFilters()
    assert [(f.name, f.data) for f in empty] == [
        ("currency", ""),
        ("min_amount", ""),
        ("max_amount", ""),
        ("customer", ""),
        ("sort", "oldest"),
        ("after", ""),
    ]
    typed = QueueFilters({"currency": "EUR", "min_amount": "1,000", "sort": "newest", "x": "1"})
    assert (typed.currency.data, typed.min_amount.data, typed.sort.data) == (
        "EUR",
        "1,000",
        "newest",
    )
    assert typed.customer.maxlength == 200
    assert [c.value for c in typed.sort.choices][:2] == ["oldest", "newest"]
    assert typed.min_amount.errors == []
    assert typed.min_amount.id == "min_amount"
