"""The approver approval queue: access, filters, inline and bulk decisions, step-up, nav count."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from markupsafe import escape

from tests import factories
from tests.helpers import mailed_code, sql_statements
from tests.services.payments.factories import make_payment, status_of
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import Account, Customer, Payment, User
from vaulta.services.payments import approval_queue


def _status(payment: Payment) -> str:
    return status_of(payment.id)


@pytest.mark.parametrize(("who", "status"), [("anonymous", 302), ("customer", 403), ("admin", 200)])
@pytest.mark.parametrize("path", ["/admin/approvals/", "/admin/approvals/count"])
def test_access(
    client: WebClient, approver: User, customer_user: User, who: str, status: int, path: str
) -> None:
    if who != "anonymous":
        client.sign_in(approver if who == "admin" else customer_user)
    assert client.get(path).status_code == status


def test_customers_cannot_decide(
    customer_client: WebClient, customer_user: User, source: Account
) -> None:
    payment = make_payment(customer_user, source)
    response = customer_client.post_form(f"/admin/approvals/{payment.id}/approve")
    assert response.status_code == 403
    assert _status(payment) == "pending_approval"


def test_queue_page_partial_and_nav_count(
    approver_client: WebClient, customer_user: User, source: Account
) -> None:
    payment = make_payment(customer_user, source, amount="42.00")
    page = approver_client.get("/admin/approvals/")
    html = page.get_data(as_text=True)
    assert f'id="payment-row-{payment.id}"' in html
    assert "42.00 EUR" in html
    # The badge loads its number from the count endpoint after the page, then on every decision.
    assert 'id="approvals-count"' in html
    assert 'hx-get="/admin/approvals/count"' in html
    assert 'hx-trigger="load, payments-changed from:body"' in html
    partial = approver_client.htmx("GET", "/admin/approvals/?currency=USD")
    text = partial.get_data(as_text=True)
    assert "<html" not in text
    assert "No payments wait for approval." in text
    assert "HX-Request" in partial.headers["Vary"]
    count = approver_client.htmx("GET", "/admin/approvals/count").get_data(as_text=True)
    assert ">1</mark>" in count
    assert 'hx-trigger="payments-changed from:body"' in count


@pytest.mark.parametrize("amount", ["lots", "12,50", "1,00", "\u0661\u0660\u0660", "1e3"])
def test_bad_amount_filter_is_shown_on_its_field(approver_client: WebClient, amount: str) -> None:
    response = approver_client.get("/admin/approvals/", query_string={"min_amount": amount})
    assert response.status_code == 422
    assert "Write amounts like 1234.56 or 1,234.56" in response.get_data(as_text=True)


def test_htmx_approve_swaps_the_row_and_signals_the_count(
    approver_client: WebClient, customer_user: User, source: Account
) -> None:
    payment = make_payment(customer_user, source)
    response = approver_client.htmx("POST", f"/admin/approvals/{payment.id}/approve", data={})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="payment-row-{payment.id}" data-status="executed"')
    assert f"PAY-{payment.id}" in html
    assert response.headers["HX-Trigger"] == "payments-changed"
    assert _status(payment) == "executed"


def test_plain_approve_redirects_with_a_message(
    approver_client: WebClient, customer_user: User, source: Account
) -> None:
    payment = make_payment(customer_user, source)
    response = approver_client.post_form(f"/admin/approvals/{payment.id}/approve")
    assert response.status_code == 302
    assert response.location == "/admin/approvals/"
    assert "is executed" in approver_client.get("/admin/approvals/").get_data(as_text=True)


def test_reject_needs_a_reason(
    approver_client: WebClient, customer_user: User, source: Account
) -> None:
    payment = make_payment(customer_user, source)
    url = f"/admin/approvals/{payment.id}/reject"
    missing = approver_client.htmx("POST", url, data={"reason": " "})
    assert missing.status_code == 422
    assert "Give the customer a reason" in missing.get_data(as_text=True)
    done = approver_client.htmx("POST", url, data={"reason": "Unknown payee"})
    assert 'data-status="rejected"' in done.get_data(as_text=True)
    assert "Rejected: Unknown payee" in done.get_data(as_text=True)
    assert _status(payment) == "rejected"


def test_post_without_csrf_is_refused(
    approver_client: WebClient, customer_user: User, source: Account
) -> None:
    payment = make_payment(customer_user, source)
    assert approver_client.post(f"/admin/approvals/{payment.id}/approve").status_code == 400
    assert _status(payment) == "pending_approval"


@pytest.mark.parametrize("htmx", [False, True])
def test_already_decided_is_a_clear_conflict(
    approver_client: WebClient, customer_user: User, source: Account, htmx: bool
) -> None:
    payment = make_payment(customer_user, source)
    url = f"/admin/approvals/{payment.id}/approve"
    approver_client.post_form(url)
    if htmx:
        response = approver_client.htmx("POST", url, data={})
        assert response.status_code == 409
        assert response.headers["HX-Retarget"] == "#messages"
        assert "already decided" in response.get_data(as_text=True)
    else:
        response = approver_client.post_form(url)
        assert response.status_code == 302
        assert "already decided" in approver_client.get(response.location).get_data(as_text=True)


def test_four_eyes_refusal_is_explained(
    client: WebClient, approver: User, customer_user: User, source: Account
) -> None:
    payment = make_payment(customer_user, source)
    db.session.execute(
        sa.update(Payment).where(Payment.id == payment.id).values(requested_by_id=approver.id)
    )
    db.session.commit()
    client.sign_in(approver)
    response = client.htmx("POST", f"/admin/approvals/{payment.id}/approve", data={})
    assert response.status_code == 403
    assert "Four eyes" in response.get_data(as_text=True)
    assert _status(payment) == "pending_approval"


def test_step_up_asks_for_a_code_then_approves(
    app: Flask, approver_client: WebClient, approver: User, customer_user: User, source: Account
) -> None:
    app.config["APPROVAL_STEP_UP_THRESHOLD_MINOR"] = 10_000
    payment = make_payment(customer_user, source, amount="100.00")
    url = f"/admin/approvals/{payment.id}/approve"
    asked = approver_client.htmx("POST", url, data={})
    assert asked.status_code == 200
    assert f'<label for="code-{payment.id}">' in asked.get_data(as_text=True)
    assert f'id="code-{payment.id}"' in asked.get_data(as_text=True)
    assert _status(payment) == "pending_approval"
    wrong = approver_client.htmx("POST", url, data={"code": "12"})
    assert wrong.status_code == 422
    assert "The code has 6 digits." in wrong.get_data(as_text=True)
    assert f'aria-describedby="code-{payment.id}-error"' in wrong.get_data(as_text=True)
    done = approver_client.htmx("POST", url, data={"code": mailed_code(approver.email)})
    assert 'data-status="executed"' in done.get_data(as_text=True)


def test_step_up_without_javascript(
    app: Flask, approver_client: WebClient, approver: User, customer_user: User, source: Account
) -> None:
    app.config["APPROVAL_STEP_UP_THRESHOLD_MINOR"] = 10_000
    payment = make_payment(customer_user, source, amount="100.00")
    asked = approver_client.post_form(f"/admin/approvals/{payment.id}/approve")
    assert asked.location == f"/admin/approvals/?step_up={payment.id}"
    assert f'id="code-{payment.id}"' in approver_client.get(asked.location).get_data(as_text=True)
    done = approver_client.post_form(
        f"/admin/approvals/{payment.id}/approve", {"code": mailed_code(approver.email)}
    )
    assert done.status_code == 302
    assert _status(payment) == "executed"


def test_bulk_reports_a_result_per_row(
    approver_client: WebClient, customer_user: User, source: Account, target: Account
) -> None:
    ok = make_payment(customer_user, source, to=target, amount="900.00")
    # Holds refuse a payment beyond the available balance when it is made: a payment now
    # fails at approval when an account was frozen meanwhile.
    frozen = factories.make_account(factories.customer_of(customer_user), "EUR")
    poor = make_payment(customer_user, source, to=frozen, amount="50.00")
    db.session.execute(sa.update(Account).where(Account.id == frozen.id).values(status="frozen"))
    db.session.commit()
    response = approver_client.htmx(
        "POST",
        "/admin/approvals/bulk",
        data={"payment_ids": [str(ok.id), str(poor.id)], "action": "approve"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "payments-changed"
    assert f"Payment #{ok.id}: executed" in html
    assert f"Payment #{poor.id}: failed: Account" in html
    none = approver_client.post_form("/admin/approvals/bulk", {"action": "approve"})
    assert none.status_code == 422


def test_queue_pages_keep_the_filters(
    monkeypatch: pytest.MonkeyPatch,
    approver_client: WebClient,
    customer_user: User,
    source: Account,
) -> None:
    monkeypatch.setattr(approval_queue, "QUEUE_LIMIT", 1)
    first = make_payment(customer_user, source, amount="42.00")
    second = make_payment(customer_user, source, amount="43.00")
    html = approver_client.get("/admin/approvals/?currency=EUR").get_data(as_text=True)
    assert f'id="payment-row-{first.id}"' in html
    assert f'id="payment-row-{second.id}"' not in html
    next_url = f"/admin/approvals/?currency=EUR&amp;sort=oldest&amp;after={first.id}"
    assert f'href="{next_url}"' in html
    page_two = approver_client.htmx("GET", next_url.replace("&amp;", "&"))
    text = page_two.get_data(as_text=True)
    assert "<html" not in text
    assert f'id="payment-row-{second.id}"' in text
    assert f'id="payment-row-{first.id}"' not in text
    assert 'href="/admin/approvals/?currency=EUR&amp;sort=oldest" hx-get=' in text
    assert "First page" in text
    assert "Next page" not in text


def test_queue_page_reads_the_same_statements_for_any_number_of_rows(
    approver_client: WebClient, customer_user: User, source: Account, target: Account
) -> None:
    make_payment(customer_user, source, to=target)
    with sql_statements() as one:
        html = approver_client.get("/admin/approvals/").get_data(as_text=True)
    assert html.count('id="payment-row-') == 1
    for n in range(4):
        make_payment(customer_user, source, to=target if n % 2 else None, amount=f"{n + 1}.00")
    with sql_statements() as five:
        html = approver_client.get("/admin/approvals/").get_data(as_text=True)
    assert html.count('id="payment-row-') == 5
    assert len(five) == len(one)
    # One page statement (expired payments left out, not marked): no per-row loads.
    assert len([q for q in five if "FROM payments" in q]) == 1
    assert not [q for q in five if q.lstrip().startswith("SELECT accounts.")]


def test_queue_rows_show_payer_and_either_kind_of_beneficiary(
    approver_client: WebClient, customer_user: User, source: Account, target: Account
) -> None:
    internal = make_payment(customer_user, source, to=target, amount="934.50", reference="Rent")
    external = make_payment(customer_user, source, amount="7.00", reference="Books")
    html = approver_client.get("/admin/approvals/").get_data(as_text=True)
    payer = factories.customer_of(customer_user)
    owner = db.session.get(Customer, target.customer_id)
    assert owner is not None
    rows = {
        p.id: html.split(f'id="payment-row-{p.id}"', 1)[1].split("</tr>", 1)[0]
        for p in (internal, external)
    }
    for row in rows.values():
        assert f'{payer.full_name}<br><small class="muted">{payer.customer_number}</small>' in row
        assert f"<td>{source.number}</td>" in row
    assert f'{target.number} <small class="muted">{owner.full_name}</small>' in rows[internal.id]
    assert "934.50 EUR" in rows[internal.id]
    assert "<td>Rent</td>" in rows[internal.id]
    assert 'Acme Ltd <small class="muted">GB82 WEST 1234 5698 7654 32</small>' in rows[external.id]
    assert "7.00 EUR" in rows[external.id]
    assert "<td>Books</td>" in rows[external.id]
    for p in (internal, external):
        assert (
            f'action="/admin/approvals/{p.id}/approve" hx-post="/admin/approvals/{p.id}/approve"'
            in html
        )
        assert (
            f'href="/admin/approvals/?reject={p.id}" hx-get="/admin/approvals/{p.id}/reject"'
            in html
        )
        assert f'aria-label="Select payment {p.id}"' in html


def test_queue_escapes_what_people_typed(
    approver_client: WebClient, customer_user: User, source: Account, target: Account
) -> None:
    """Every text column is escaped."""
    external = make_payment(customer_user, source)
    internal = make_payment(customer_user, source, to=target)
    for payment in (external, internal):
        db.session.execute(
            sa.update(Payment).where(Payment.id == payment.id).values(reference="<i>ref</i>")
        )
    db.session.execute(
        sa.update(Payment)
        .where(Payment.id == external.id)
        .values(beneficiary_name="<i>name</i>", beneficiary_iban="<i>iban</i>")
    )
    db.session.execute(
        sa.update(Customer)
        .where(Customer.id == source.customer_id)
        .values(full_name="<i>payer</i>", customer_number="<i>no</i>")
    )
    db.session.execute(
        sa.update(Customer).where(Customer.id == target.customer_id).values(full_name="<i>own</i>")
    )
    db.session.execute(sa.update(Account).where(Account.id == source.id).values(number="<i>1</i>"))
    db.session.execute(sa.update(Account).where(Account.id == target.id).values(number="<i>2</i>"))
    db.session.commit()
    html = approver_client.get("/admin/approvals/").get_data(as_text=True)
    assert not re.search("<i>|<I>", html)
    for text in ("ref", "name", "payer", "no", "own", "1", "2"):
        assert f"&lt;i&gt;{text}&lt;/i&gt;" in html, text
    assert "&lt;I&gt;I BAN&lt; /I&gt;" in html  # the IBAN, upper case in groups of four
    hostile = '"><i>reason</i>'
    too_long = approver_client.htmx(
        "POST", f"/admin/approvals/{internal.id}/reject", data={"reason": hostile + "x" * 600}
    )
    assert too_long.status_code == 422
    assert 'value="&#34;&gt;&lt;i&gt;reason' in too_long.get_data(as_text=True)
    rejected = approver_client.htmx(
        "POST", f"/admin/approvals/{internal.id}/reject", data={"reason": hostile}
    )
    assert "<i>" not in rejected.get_data(as_text=True)
    assert "Rejected: &#34;&gt;&lt;i&gt;reason" in rejected.get_data(as_text=True)


@pytest.mark.parametrize(
    "hostile", ["<img src=x onerror=alert(1)>", '" hx-post="/x" hx-trigger="load']
)
def test_a_hostile_name_or_reference_is_shown_as_text(
    approver_client: WebClient, customer_user: User, source: Account, hostile: str
) -> None:
    make_payment(customer_user, source, reference=f"Ref {hostile}")
    db.session.execute(
        sa.update(Customer)
        .where(Customer.id == source.customer_id)
        .values(full_name=f"Eve {hostile}")
    )
    db.session.commit()
    for page in (
        approver_client.get("/admin/approvals/"),
        approver_client.htmx("GET", "/admin/approvals/"),
    ):
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert hostile not in html
        assert "<img" not in html
        assert 'hx-post="/x"' not in html
        assert f"Eve {escape(hostile)}" in html
        assert f"Ref {escape(hostile)}" in html


def test_refused_reason_keeps_the_row_and_marks_the_field(
    approver_client: WebClient, customer_user: User, source: Account
) -> None:
    payment = make_payment(customer_user, source)
    html = approver_client.htmx(
        "POST", f"/admin/approvals/{payment.id}/reject", data={"reason": " "}
    ).get_data(as_text=True)
    assert html.lstrip().startswith(
        f'<tr id="payment-row-{payment.id}" data-status="pending_approval"'
    )
    assert f'aria-describedby="reason-{payment.id}-error"' in html
    assert f'<small id="reason-{payment.id}-error" class="field-error">' in html
    assert html.count('name="csrf_token"') == 2


def test_huge_amount_filters_find_nothing_instead_of_failing(
    approver_client: WebClient, customer_user: User, source: Account
) -> None:
    make_payment(customer_user, source)
    for huge in ("99999999999999999999", "99,999,999,999,999,999,999,999.99"):
        response = approver_client.get("/admin/approvals/", query_string={"min_amount": huge})
        assert response.status_code == 200
        assert "No payments wait for approval." in response.get_data(as_text=True)
    response = approver_client.get("/admin/approvals/?max_amount=99999999999999999999")
    assert 'id="payment-row-' in response.get_data(as_text=True)
    # An exponent is no amount: refused by the grammar, not turned into a huge number.
    assert approver_client.get("/admin/approvals/?max_amount=9e999999999").status_code == 422


@pytest.mark.parametrize("sort", ["oldest", "newest", "amount_desc", "amount_asc", "customer"])
def test_the_page_statement_yields_the_fields_the_row_template_unpacks(sort: str) -> None:
    """_rows.html unpacks every row positionally, in QueueRow's order."""
    from vaulta.services.payments import approval_queue

    query = approval_queue._page_query(sort, True, True, True, True, after=True, limit=51)
    assert [c.key for c in query.selected_columns] == list(approval_queue.QueueRow._fields)
