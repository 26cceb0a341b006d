"""Mail from the background jobs: the customer's payment executed or rejected (made from the
outbox events, so nothing is lost while no worker runs), retried when sending fails, and
approvers reminded once about a payment waiting longer than APPROVAL_REMINDER_HOURS."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.helpers import count_rows
from tests.services.payments.factories import make_payment
from vaulta import mail
from vaulta.extensions import db
from vaulta.models import Account, Notification, OutboxEvent, User, utcnow
from vaulta.models.base import clock_set_to
from vaulta.ops.queue import EXTENSION
from vaulta.services import notifications
from vaulta.services.payments import approvals


@pytest.fixture(autouse=True)
def _private_outbox(app: Flask, tmp_path: Path) -> None:
    app.config["MAIL_OUTBOX_DIR"] = str(tmp_path / "outbox")


def _mails(app: Flask, subject_part: str) -> list[dict[str, str]]:
    directory = Path(app.config["MAIL_OUTBOX_DIR"])
    found = [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]
    return [m for m in found if subject_part in m["subject"]]


def _run_delivery(app: Flask) -> None:
    """What the worker's delivery run does (fan-out, webhooks, then notifications)."""
    app.extensions[EXTENSION].deliver_webhooks()
    db.session.rollback()


def test_executed_payment_mails_the_customer_once_even_after_the_worker_was_down(
    app: Flask, customer_user: User, source: Account, target: Account, approver: User
) -> None:
    payment = make_payment(customer_user, source, to=target, amount="12.34")
    approvals.approve(payment.id, actor=approver)
    # No worker ran yet: the event waits in the outbox, nobody was mailed.
    assert _mails(app, "executed") == []
    assert count_rows(OutboxEvent, OutboxEvent.dispatched_at.is_(None), fresh=True) > 0
    _run_delivery(app)
    [sent] = _mails(app, "executed")
    assert sent["to"] == customer_user.email
    assert f"payment #{payment.id}" in sent["subject"]
    assert "12.34" in sent["body"]
    assert "Invoice 42" in sent["body"]
    _run_delivery(app)  # nothing left: no second mail
    app.extensions[EXTENSION].send_notifications()
    assert len(_mails(app, "executed")) == 1
    row = db.session.scalars(sa.select(Notification)).one()
    assert (row.kind, row.status, row.payment_id) == ("payment.executed", "sent", payment.id)
    assert row.event_id is not None


def test_rejected_payment_mails_the_customer_the_reason(
    app: Flask, customer_user: User, source: Account, target: Account, approver: User
) -> None:
    payment = make_payment(customer_user, source, to=target)
    approvals.reject(payment.id, actor=approver, reason="Unknown payee")
    _run_delivery(app)
    [sent] = _mails(app, "rejected")
    assert sent["to"] == customer_user.email
    assert "Unknown payee" in sent["body"]
    assert _mails(app, "executed") == []


def test_a_failed_send_is_retried_later(
    app: Flask,
    customer_user: User,
    source: Account,
    target: Account,
    approver: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payment = make_payment(customer_user, source, to=target)
    approvals.reject(payment.id, actor=approver, reason="Unknown payee")
    real_send = mail.send

    def smtp_down(*_args: Any) -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(mail, "send", smtp_down)
    _run_delivery(app)
    row = db.session.scalars(sa.select(Notification)).one()
    assert (row.status, row.attempt_count) == ("pending", 1)
    assert "connection refused" in (row.last_error or "")
    monkeypatch.setattr(mail, "send", real_send)
    assert notifications.send_due() == 0  # not due yet
    with clock_set_to(utcnow() + timedelta(minutes=2)):
        assert notifications.send_due() == 1
    assert len(_mails(app, "rejected")) == 1


def test_approvers_are_reminded_once(
    app: Flask,
    customer_user: User,
    source: Account,
    target: Account,
    approver: User,
    second_approver: User,
    teller: User,
) -> None:
    waiting = make_payment(customer_user, source, to=target)
    hours = app.config["APPROVAL_REMINDER_HOURS"]
    reminders = app.extensions[EXTENSION].approval_reminders
    with clock_set_to(utcnow() + timedelta(hours=hours) - timedelta(minutes=5)):
        reminders()
    assert _mails(app, "waits for a decision") == []  # not yet
    later = utcnow() + timedelta(hours=hours, minutes=1)
    with clock_set_to(later):
        newer = make_payment(customer_user, source, to=target)
        reminders()
    sent = _mails(app, "waits for a decision")
    assert sorted(m["to"] for m in sent) == sorted([approver.email, second_approver.email])
    assert all(f"payment #{waiting.id}" in m["subject"] for m in sent)  # not the newer one
    assert teller.email not in {m["to"] for m in sent}
    with clock_set_to(later + timedelta(minutes=15)):
        reminders()
    with clock_set_to(later + timedelta(hours=2)):
        reminders()
    assert len(_mails(app, "waits for a decision")) == 2  # once per payment, not every run
    with clock_set_to(later + timedelta(hours=hours, minutes=1)):
        reminders()
    assert {m["subject"] for m in _mails(app, "waits")} == {
        f"VAULTA: payment #{waiting.id} waits for a decision",
        f"VAULTA: payment #{newer.id} waits for a decision",
    }
    # Each payment has its change request (payments.payment): its approvers are reminded
    # once, by the payment's reminder, not a second time by the change request's.
    assert db.session.get(type(waiting), waiting.id).change_request_id is not None
    assert _mails(app, "still needs a decision") == []


def test_a_payment_decided_before_its_reminder_goes_out_reminds_nobody(
    app: Flask, customer_user: User, source: Account, target: Account, approver: User
) -> None:
    payment = make_payment(customer_user, source, to=target)
    hours = app.config["APPROVAL_REMINDER_HOURS"]
    with clock_set_to(utcnow() + timedelta(hours=hours, minutes=1)):
        assert notifications.make_reminders() == 1
        approvals.reject(payment.id, actor=approver, reason="Unknown payee")
        notifications.send_due()
    assert _mails(app, "waits") == []
