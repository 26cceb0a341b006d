"""A customer's own payment file: the customer's login is the batch's maker, only for the
customer's own accounts (another customer's is NotFound), decided by staff like any batch
(four eyes), and the customer sees only the files their own logins uploaded."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.helpers import audit_actions, balance, count_rows
from tests.services.payments.batch_support import csv_file, read, submit_batch
from vaulta.extensions import db
from vaulta.models import Account, AuditEvent, ChangeRequest, Payment, User
from vaulta.services.changes import change_requests
from vaulta.services.errors import Forbidden, NotFound
from vaulta.services.payments import batch_actions, batch_queries, batch_uploads


@pytest.fixture
def own_account(customer_user: User) -> Account:
    return factories.make_account(factories.customer_of(customer_user), "EUR", 1_000_00)


@pytest.fixture
def others_account(other_customer_user: User) -> Account:
    return factories.make_account(factories.customer_of(other_customer_user), "EUR", 1_000_00)


def test_the_customer_makes_the_batch_and_staff_decide_it(
    app: Flask, customer_user: User, own_account: Account, approver: User
) -> None:
    checked = batch_uploads.preview(
        own_account.id, read("bad_iban_line3.csv"), "pay.csv", actor=customer_user
    )
    assert (len(checked.valid), len(checked.invalid)) == (2, 3)
    upload = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "payment_file.upload")
    ).one()
    assert upload.actor_id == customer_user.id
    request = submit_batch(customer_user, own_account, read("bad_iban_line3.csv"))
    assert (request.status, request.maker_id) == ("pending", customer_user.id)
    assert request.customer_id == own_account.customer_id
    assert count_rows(Payment) == 0
    with pytest.raises(Forbidden):
        change_requests.approve(request.id, actor=customer_user)  # never their own
    done = change_requests.approve(request.id, actor=approver)
    assert (done.status, done.result) == ("approved", {"executed": 2, "failed": 0})
    assert balance(own_account) == 1_000_00 - 30_00
    payment = batch_actions.payment_of(db.session, request.id, 1)
    assert payment is not None
    assert (payment.requested_by_id, payment.admin_approved_by) == (customer_user.id, approver.id)
    assert audit_actions("change_request", request.id)[:2] == [
        "change_request.submit",
        "payment_batch.submit",
    ]
    found = batch_queries.batch_for_customer(request.id, own_account.customer_id)
    assert [(line.line_no, line.status) for line in found.lines] == [
        (1, "executed"),
        (2, "executed"),
    ]
    assert [bad["line_no"] for bad in found.invalid] == [3, 4, 5]


def test_another_customers_account_is_not_found(
    app: Flask, customer_user: User, others_account: Account
) -> None:
    with pytest.raises(NotFound):
        batch_uploads.preview(others_account.id, csv_file("1.00"), "x.csv", actor=customer_user)
    with pytest.raises(NotFound):
        submit_batch(customer_user, others_account, csv_file("1.00"))
    assert count_rows(ChangeRequest) == 0
    assert count_rows(AuditEvent, AuditEvent.action == "payment_file.upload") == 0


def test_staff_without_payments_request_may_not_upload(
    app: Flask, approver: User, own_account: Account
) -> None:
    with pytest.raises(Forbidden):
        batch_uploads.preview(own_account.id, csv_file("1.00"), "x.csv", actor=approver)
    with pytest.raises(Forbidden):
        submit_batch(approver, own_account, csv_file("1.00"))


def test_the_customer_sees_only_their_own_uploads(
    app: Flask,
    customer_user: User,
    other_customer_user: User,
    own_account: Account,
    others_account: Account,
    teller: User,
) -> None:
    theirs = submit_batch(customer_user, own_account, csv_file("1.00"), "mine.csv")
    second_login = factories.make_customer_login(customer=factories.customer_of(customer_user))
    also = submit_batch(second_login, own_account, csv_file("2.00"), "colleague.csv")
    by_staff = submit_batch(teller, own_account, csv_file("3.00"), "teller.csv")
    other = submit_batch(other_customer_user, others_account, csv_file("4.00"), "other.csv")
    customer_id = own_account.customer_id
    assert customer_id is not None
    rows = batch_queries.uploads_of_customer(customer_id)
    assert [(r.id, r.params["file_name"]) for r in rows] == [
        (also.id, "colleague.csv"),
        (theirs.id, "mine.csv"),
    ]
    assert rows[0].amount_minor == 2_00
    for refused in (by_staff.id, other.id):
        with pytest.raises(NotFound):
            batch_queries.batch_for_customer(refused, customer_id)
    deposit = change_requests.submit(
        "ledger.deposit",
        {"account_id": own_account.id, "amount_minor": 100, "description": "Not a batch"},
        actor=teller,
    )
    with pytest.raises(NotFound):
        batch_queries.batch_for_customer(deposit.id, customer_id)
