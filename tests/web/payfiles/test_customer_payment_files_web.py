"""A customer's own payment files on the web (/payments/files): upload (multipart, CSRF,
size limits) for their own account, the preview with every line's problem, submit as one
request decided by staff in the inbox, and the list and batch page with each line's
outcome; another customer's account or batch is 404."""

from __future__ import annotations

import io
import re

from flask import Flask

from tests import factories
from tests.change_steps import newest_request
from tests.helpers import balance, count_rows
from tests.services.payments.batch_support import csv_file, read
from tests.web.payfiles.test_payment_files_web import token_in
from tests.webclient import WebClient
from vaulta.models import Account, ChangeRequest, Payment, User

FILES = "/payments/files"


def upload(client: WebClient, number: str, data: bytes, name: str, **kwargs: object):
    return client.post(
        f"{FILES}/accounts/{number}/preview",
        data={"csrf_token": client.csrf_token(), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        **kwargs,
    )


def batch_id_in(html: str) -> int:
    match = re.search(r'<a href="/payments/files/(\d+)">Payment file #\1</a>', html)
    assert match is not None, "the page does not name the submitted file"
    return int(match.group(1))


def _own(user: User, balance_minor: int = 1_000_00) -> Account:
    return factories.make_account(factories.customer_of(user), "EUR", balance_minor)


def test_upload_preview_submit_then_staff_approve_and_the_customer_sees_each_line(
    client: WebClient, customer_user: User, approver: User
) -> None:
    account = _own(customer_user)
    client.sign_in(customer_user)
    index = client.get(FILES)
    assert index.status_code == 200
    assert f'href="{FILES}/accounts/{account.number}"' in index.text
    assert "No payment files yet." in index.text
    form = client.get(f"{FILES}/accounts/{account.number}")
    assert form.status_code == 200
    assert f'action="{FILES}/accounts/{account.number}/preview"' in form.text
    preview = upload(client, account.number, read("bad_iban_line3.csv"), "pay.csv")
    assert preview.status_code == 200
    assert "2 valid" in preview.text
    assert "3 invalid" in preview.text
    assert f'action="{FILES}/accounts/{account.number}/submit"' in preview.text
    assert count_rows(ChangeRequest) == 0
    token = token_in(preview.text)
    url = f"{FILES}/accounts/{account.number}/submit"
    made = client.post_form(url, {"token": token})
    assert made.status_code == 201
    assert "awaits approval by the bank" in made.text
    batch_id = batch_id_in(made.text)
    assert batch_id_in(client.post_form(url, {"token": token}).text) == batch_id  # once
    assert count_rows(ChangeRequest) == 1
    assert "/admin/" not in made.text  # no link into the back office
    listed = client.get(FILES)
    assert f'id="payment-file-{batch_id}" data-status="pending"' in listed.text
    assert "pay.csv" in listed.text
    page = client.get(f"{FILES}/{batch_id}")
    assert page.status_code == 200
    assert page.text.count('data-status="waiting"') == 2
    assert "Line 3:" in page.text

    client.sign_in(approver)
    inbox = client.get("/admin/inbox")
    assert f"request-row-{batch_id}" in inbox.text
    assert client.post_form(f"/admin/requests/{batch_id}/approve").status_code in (200, 302, 303)
    assert balance(account) == 1_000_00 - 30_00
    assert count_rows(Payment) == 2

    client.sign_in(customer_user)
    page = client.get(f"{FILES}/{batch_id}")
    assert page.text.count('data-status="executed"') == 2
    assert "2 paid, 0 failed" in page.text
    assert "2 paid, 0 failed" in client.get(FILES).text


def test_a_line_without_funds_is_shown_failed(
    client: WebClient, customer_user: User, approver: User
) -> None:
    account = _own(customer_user, 50_00)
    client.sign_in(customer_user)
    token = token_in(upload(client, account.number, csv_file("40.00", "20.00"), "a.csv").text)
    made = client.post_form(f"{FILES}/accounts/{account.number}/submit", {"token": token})
    batch_id = batch_id_in(made.text)
    client.sign_in(approver)
    client.post_form(f"/admin/requests/{batch_id}/approve")
    client.sign_in(customer_user)
    page = client.get(f"{FILES}/{batch_id}")
    assert 'data-line="2" data-status="failed"' in page.text
    assert "Insufficient funds" in page.text


def test_another_customers_account_and_batch_are_404(
    client: WebClient, customer_user: User, other_customer_user: User, teller: User
) -> None:
    mine = _own(customer_user)
    theirs = _own(other_customer_user)
    client.sign_in(other_customer_user)
    token = token_in(upload(client, theirs.number, csv_file("1.00"), "t.csv").text)
    their_batch = batch_id_in(
        client.post_form(f"{FILES}/accounts/{theirs.number}/submit", {"token": token}).text
    )
    client.sign_in(customer_user)
    assert client.get(f"{FILES}/accounts/{theirs.number}").status_code == 404
    assert upload(client, theirs.number, csv_file("1.00"), "x.csv").status_code == 404
    stolen = client.post_form(f"{FILES}/accounts/{theirs.number}/submit", {"token": token})
    assert stolen.status_code == 404
    # their token for my account: signed for another account and person
    foreign = client.post_form(f"{FILES}/accounts/{mine.number}/submit", {"token": token})
    assert foreign.status_code == 422
    assert client.get(f"{FILES}/{their_batch}").status_code == 404
    assert client.get(f"{FILES}/999999").status_code == 404
    assert f"payment-file-{their_batch}" not in client.get(FILES).text
    # a teller's upload for the customer is the bank's, not one of the customer's files
    client.sign_in(teller)
    staff_token = token_in(
        client.post(
            f"/admin/accounts/{mine.id}/payment-files/preview",
            data={
                "csrf_token": client.csrf_token(),
                "file": (io.BytesIO(csv_file("3.00")), "s.csv"),
            },
            content_type="multipart/form-data",
        ).text
    )
    client.post_form(f"/admin/accounts/{mine.id}/payment-files/submit", {"token": staff_token})
    staff_batch = newest_request().id
    assert newest_request().maker_id == teller.id
    client.sign_in(customer_user)
    assert client.get(f"{FILES}/{staff_batch}").status_code == 404
    assert count_rows(ChangeRequest) == 2


def test_limits_csrf_and_staff(
    app: Flask, client: WebClient, customer_user: User, teller: User
) -> None:
    account = _own(customer_user)
    client.sign_in(customer_user)
    no_csrf = client.post(
        f"{FILES}/accounts/{account.number}/preview",
        data={"file": (io.BytesIO(csv_file("1.00")), "a.csv")},
        content_type="multipart/form-data",
    )
    assert no_csrf.status_code == 400
    big = client.post(
        f"{FILES}/accounts/{account.number}/preview",
        data=b"--b\r\n" + b"x" * app.config["MAX_CONTENT_LENGTH"],
        content_type="multipart/form-data; boundary=b",
    )
    assert big.status_code == 413
    app.config["PAYMENT_FILE_MAX_BYTES"] = 50
    small = upload(client, account.number, csv_file("1.00"), "a.csv")
    assert small.status_code == 422
    assert "larger than 50 bytes" in small.text
    missing = client.post_form(f"{FILES}/accounts/{account.number}/preview", {})
    assert missing.status_code == 422
    client.sign_in(teller)
    assert client.get(FILES).status_code == 403
    assert client.get(f"{FILES}/accounts/{account.number}").status_code == 403
    assert count_rows(ChangeRequest) == 0


def test_htmx_preview_is_a_fragment(client: WebClient, customer_user: User) -> None:
    account = _own(customer_user)
    client.sign_in(customer_user)
    response = upload(
        client, account.number, csv_file("1.00"), "a.csv", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="payfile-preview"' in response.text
