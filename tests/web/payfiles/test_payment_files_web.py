"""Payment files on the web: upload (multipart, CSRF), the preview with every line's
problem and nothing created, submit as one request, approval in the inbox pays each line
once, the batch page, and refusals as 4xx."""

from __future__ import annotations

import io
import re

from flask import Flask

from tests.change_steps import newest_request, request_id_in
from tests.helpers import audit_actions, balance, count_rows
from tests.services.changes.support import deposit, funded_account
from tests.services.payments.batch_support import csv_file, read
from tests.webclient import WebClient
from vaulta.models import Account, ChangeRequest, Payment, PaymentBatchLine, User


def upload(client: WebClient, account: Account, data: bytes, name: str, **kwargs: object):
    return client.post(
        f"/admin/accounts/{account.id}/payment-files/preview",
        data={"csrf_token": client.csrf_token(), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        **kwargs,
    )


def token_in(html: str) -> str:
    match = re.search(r'name="token" type="hidden" value="([^"]+)"', html)
    assert match is not None, "the preview has no submit form"
    return match.group(1)


def test_upload_preview_submit_approve_pays_each_line_once(
    client: WebClient, teller: User, approver: User
) -> None:
    account = funded_account(1_000_00)
    client.sign_in(teller)
    page = client.get(f"/admin/accounts/{account.id}/payment-files")
    assert page.status_code == 200
    assert "beneficiary_name,beneficiary_iban" in page.text
    preview = upload(client, account, read("bad_iban_line3.csv"), "pay.csv")
    assert preview.status_code == 200
    html = preview.text
    assert "2 valid" in html
    assert "3 invalid" in html
    for line in (3, 4, 5):
        assert f'<tr data-line="{line}"><td>{line}</td>' in html
    assert "30.00" in html
    assert count_rows(Payment) == 0
    assert count_rows(ChangeRequest) == 0
    assert "payment_file.upload" in audit_actions("account", account.id)
    token = token_in(html)
    url = f"/admin/accounts/{account.id}/payment-files/submit"
    made = client.post_form(url, {"token": token})
    assert made.status_code == 201
    request_id = request_id_in(made.text)
    again = client.post_form(url, {"token": token})  # a double submit: the same request
    assert request_id_in(again.text) == request_id
    assert count_rows(ChangeRequest) == 1
    assert count_rows(Payment) == 0
    detail = client.get(f"/admin/requests/{request_id}")
    assert f'href="/admin/payment-batches/{request_id}"' in detail.text

    client.sign_in(approver)
    inbox = client.get("/admin/inbox")
    assert f"request-row-{request_id}" in inbox.text
    assert "Payment file" in inbox.text
    assert "first lines" in inbox.text  # the batch is readable in its row
    assert "1: 10.00 EUR to Alpha GmbH DE89370400440532013000" in inbox.text
    assert client.post_form(f"/admin/requests/{request_id}/approve").status_code in (200, 303, 302)
    assert client.post_form(f"/admin/requests/{request_id}/approve").status_code == 409
    assert newest_request().status == "approved"
    assert balance(account) == 1_000_00 - 30_00
    assert count_rows(PaymentBatchLine, PaymentBatchLine.status == "executed") == 2
    batch = client.get(f"/admin/payment-batches/{request_id}")
    assert batch.status_code == 200
    assert batch.text.count('data-status="executed"') == 2
    assert "Line 3:" in batch.text


def test_htmx_preview_is_a_fragment(client: WebClient, teller: User) -> None:
    account = funded_account()
    client.sign_in(teller)
    response = client.post(
        f"/admin/accounts/{account.id}/payment-files/preview",
        data={"file": (io.BytesIO(read("good_pain001.xml")), "pain.xml")},
        content_type="multipart/form-data",
        headers={"HX-Request": "true", "X-CSRFToken": client.csrf_token()},
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="payfile-preview"' in response.text
    assert "E2E-1" in response.text
    assert "1,250.75" in response.text


def test_unreadable_files_are_422_with_the_reason(client: WebClient, teller: User) -> None:
    account = funded_account()
    client.sign_in(teller)
    for name, says in (
        ("xxe_pain001.xml", "DTD"),
        ("malformed_pain001.xml", "malformed"),
        ("bad_ctrlsum_pain001.xml", "CtrlSum"),
        ("latin1.csv", "not UTF-8"),
    ):
        response = upload(client, account, read(name), name)
        assert response.status_code == 422, name
        assert says in response.text, name
    missing = client.post_form(f"/admin/accounts/{account.id}/payment-files/preview")
    assert missing.status_code == 422
    assert "Choose a file." in missing.text
    assert count_rows(ChangeRequest) == 0


def test_limits_csrf_and_unknown_objects(app: Flask, client: WebClient, teller: User) -> None:
    account = funded_account()
    client.sign_in(teller)
    no_csrf = client.post(
        f"/admin/accounts/{account.id}/payment-files/preview",
        data={"file": (io.BytesIO(csv_file("1.00")), "a.csv")},
        content_type="multipart/form-data",
    )
    assert no_csrf.status_code == 400
    big = client.post(
        f"/admin/accounts/{account.id}/payment-files/preview",
        data=b"--b\r\n" + b"x" * app.config["MAX_CONTENT_LENGTH"],
        content_type="multipart/form-data; boundary=b",
    )
    assert big.status_code == 413  # MAX_CONTENT_LENGTH, before the body is read
    app.config["PAYMENT_FILE_MAX_BYTES"] = 50
    small = upload(client, account, csv_file("1.00"), "a.csv")
    assert small.status_code == 422
    assert "larger than 50 bytes" in small.text
    assert client.get("/admin/accounts/999999/payment-files").status_code == 404
    assert client.get(f"/admin/payment-batches/{account.id + 999}").status_code == 404


def test_a_forged_or_foreign_token_is_refused(client: WebClient, teller: User, app: Flask) -> None:
    account = funded_account()
    other = funded_account()
    client.sign_in(teller)
    token = token_in(upload(client, account, csv_file("1.00"), "a.csv").text)
    forged = client.post_form(
        f"/admin/accounts/{account.id}/payment-files/submit", {"token": token[:-3] + "abc"}
    )
    assert forged.status_code == 422
    foreign = client.post_form(f"/admin/accounts/{other.id}/payment-files/submit", {"token": token})
    assert foreign.status_code == 422
    assert "expired or is not valid" in foreign.text
    assert count_rows(ChangeRequest) == 0


def test_the_batch_page_is_for_batches_only(client: WebClient, teller: User, auditor: User) -> None:
    account = funded_account()
    client.sign_in(teller)
    token = token_in(upload(client, account, csv_file("1.00", "2.00"), "a.csv").text)
    made = client.post_form(f"/admin/accounts/{account.id}/payment-files/submit", {"token": token})
    request_id = request_id_in(made.text)
    client.sign_in(auditor)
    page = client.get(f"/admin/payment-batches/{request_id}")
    assert page.status_code == 200
    assert page.text.count('data-status="waiting"') == 2
    other = deposit(teller, account, 5_00)  # a change request that is no batch
    assert client.get(f"/admin/payment-batches/{other.id}").status_code == 404


def test_a_file_at_the_line_limit_travels_through_the_preview(
    app: Flask, client: WebClient, teller: User
) -> None:
    limit = app.config["PAYMENT_FILE_MAX_LINES"]
    account = funded_account()
    client.sign_in(teller)
    preview = upload(client, account, csv_file(*["1.00"] * limit), "big.csv")
    assert preview.status_code == 200
    assert f"{limit} valid" in preview.text
    made = client.post_form(
        f"/admin/accounts/{account.id}/payment-files/submit", {"token": token_in(preview.text)}
    )
    assert made.status_code == 201
    assert newest_request().amount_minor == limit * 100
