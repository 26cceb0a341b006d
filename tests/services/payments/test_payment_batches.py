"""A payment file's valid lines as one change request: the policy on its total, decided
as a whole, each line executed once (a refused line fails alone), audit and outbox."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.helpers import audit_actions, balance, count_rows
from tests.services.changes.support import approve_with_code, funded_account
from tests.services.payments.batch_support import csv_file, read, submit_batch
from vaulta.extensions import db
from vaulta.models import (
    ChangeRequest,
    OutboxEvent,
    Payment,
    PaymentBatchLine,
    Transaction,
    User,
)
from vaulta.services.changes import change_requests
from vaulta.services.changes.request_state import DuplicateRequest
from vaulta.services.errors import Conflict, Forbidden, InvalidInput
from vaulta.services.ledger.checks import verify_ledger
from vaulta.services.payments import batch_actions


def lines_of(request_id: int) -> list[tuple[int, str, str | None]]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(
            PaymentBatchLine.line_no, PaymentBatchLine.status, PaymentBatchLine.failure_reason
        )
        .where(PaymentBatchLine.request_id == request_id)
        .order_by(PaymentBatchLine.line_no)
    ).all()
    return [tuple(row) for row in rows]


def test_valid_lines_become_one_request_executed_once_each(
    app: Flask, teller: User, approver: User
) -> None:
    account = funded_account(1_000_00)
    request = submit_batch(teller, account, read("bad_iban_line3.csv"))
    assert request.status == "pending"
    assert (request.amount_minor, request.currency, request.levels_required) == (30_00, "EUR", 1)
    params = request.change["params"]
    assert [line["line_no"] for line in params["lines"]] == [1, 2]
    assert [bad["line_no"] for bad in params["invalid"]] == [3, 4, 5]
    assert request.change["after"]["payments"] == 2
    assert count_rows(Payment) == 0
    with pytest.raises(Forbidden):
        change_requests.approve(request.id, actor=teller)  # four eyes
    done = change_requests.approve(request.id, actor=approver)
    assert done.status == "approved"
    assert done.result == {"executed": 2, "failed": 0}
    assert balance(account) == 1_000_00 - 30_00
    assert lines_of(request.id) == [(1, "executed", None), (2, "executed", None)]
    payment = batch_actions.payment_of(db.session, request.id, 1)
    assert payment is not None
    assert payment.status == "executed"
    assert (payment.requested_by_id, payment.admin_approved_by) == (teller.id, approver.id)
    assert payment.reference == "First"
    assert payment.transaction_id is not None
    keys = [batch_actions.line_key(request.id, n) for n in (1, 2)]
    assert count_rows(Transaction, Transaction.idempotency_key.in_(keys)) == 2
    types = list(db.session.scalars(sa.select(OutboxEvent.type)))
    assert types.count("payment.executed") == 2
    assert "payment_batch.created" in types
    assert "payment_batch.executed" in types
    assert audit_actions("change_request", request.id)[:2] == [
        "change_request.submit",
        "payment_batch.submit",
    ]
    assert audit_actions("payment", payment.id) == [
        "payment.request",
        "payment_batch.line_executed",
    ]
    with pytest.raises(Conflict):
        change_requests.approve(request.id, actor=approver)  # decided: never again
    assert count_rows(Payment) == 2
    assert verify_ledger() == []


def test_a_line_without_funds_fails_alone(app: Flask, teller: User, approver: User) -> None:
    account = funded_account(100_00)
    request = submit_batch(teller, account, csv_file("60.00", "50.00", "40.00"))
    done = change_requests.approve(request.id, actor=approver)
    assert done.status == "approved"
    assert done.result == {"executed": 2, "failed": 1}
    outcome = lines_of(request.id)
    assert [(n, s) for n, s, _ in outcome] == [(1, "executed"), (2, "failed"), (3, "executed")]
    assert "Insufficient funds" in (outcome[1][2] or "")
    assert balance(account) == 0
    assert count_rows(Payment) == 2  # the failed line left no payment behind
    assert "payment_batch.line_failed" in audit_actions("change_request", request.id)
    assert verify_ledger() == []


def test_a_batch_of_ten_thousand_needs_two_approvers(
    app: Flask, teller: User, approver: User, second_approver: User
) -> None:
    account = funded_account(20_000_00)
    request = submit_batch(teller, account, csv_file("4000.00", "3000.00", "3000.00"))
    assert request.amount_minor == 10_000_00
    assert request.levels_required == 2
    first = change_requests.approve(request.id, actor=approver)
    assert first.status == "pending"
    assert count_rows(Payment) == 0
    done = approve_with_code(request.id, second_approver)
    assert done.status == "approved"
    assert balance(account) == 10_000_00


def test_rejected_batch_pays_nothing(app: Flask, teller: User, approver: User) -> None:
    account = funded_account(100_00)
    request = submit_batch(teller, account, csv_file("10.00"))
    change_requests.reject(request.id, actor=approver, reason="Wrong file")
    assert count_rows(Payment) == 0
    assert balance(account) == 100_00


def test_a_frozen_account_fails_the_whole_batch(app: Flask, teller: User, approver: User) -> None:
    account = funded_account(100_00)
    request = submit_batch(teller, account, csv_file("10.00"))
    account.status = "frozen"
    db.session.commit()
    done = change_requests.approve(request.id, actor=approver)
    assert done.status == "failed"
    assert "frozen" in (done.failure_reason or "")
    assert count_rows(Payment) == 0
    assert lines_of(request.id) == []


def test_refusals_at_submit(app: Flask, teller: User, approver: User) -> None:
    account = funded_account(100_00)
    with pytest.raises(InvalidInput, match="No line"):
        submit_batch(teller, account, csv_file("1.234"))
    with pytest.raises(Forbidden):
        submit_batch(approver, account, csv_file("1.00"))
    first = submit_batch(teller, account, csv_file("1.00"))
    with pytest.raises(DuplicateRequest) as caught:
        submit_batch(teller, account, csv_file("1.00"))
    assert caught.value.first_id == first.id
    assert count_rows(ChangeRequest) == 1


def test_executing_again_skips_recorded_lines(app: Flask, teller: User, approver: User) -> None:
    """The action itself never pays a recorded line twice (a retry after a partial run)."""
    account = funded_account(100_00)
    request = submit_batch(teller, account, csv_file("10.00", "20.00"))
    change_requests.approve(request.id, actor=approver)
    request = db.session.get(ChangeRequest, request.id, populate_existing=True)
    assert request is not None
    assert batch_actions._execute(db.session, request, approver) == {"executed": 0, "failed": 0}
    db.session.rollback()
    assert balance(account) == 70_00
