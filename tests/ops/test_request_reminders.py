"""Approvers are mailed once about a change request that waits on them longer than
APPROVAL_REMINDER_HOURS: the people who may decide its next level, never its maker or a
past decider, and nobody once it was decided (issue 17)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.web.inbox.conftest import deposit_request
from vaulta.extensions import db
from vaulta.models import Account, Notification, User, utcnow
from vaulta.models.base import clock_set_to
from vaulta.ops.queue import EXTENSION
from vaulta.services import notifications
from vaulta.services.changes import change_requests

SUBJECT = "still needs a decision"


@pytest.fixture(autouse=True)
def _private_outbox(app: Flask, tmp_path: Path) -> None:
    app.config["MAIL_OUTBOX_DIR"] = str(tmp_path / "outbox")


@pytest.fixture
def account(app: Flask) -> Account:
    return factories.make_account(factories.make_customer(), "EUR", 10_000)


def _mails(app: Flask) -> list[dict[str, str]]:
    directory = Path(app.config["MAIL_OUTBOX_DIR"])
    found = [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]
    return [m for m in found if SUBJECT in m["subject"]]


def _later(app: Flask, minutes: int = 1) -> timedelta:
    return timedelta(hours=app.config["APPROVAL_REMINDER_HOURS"], minutes=minutes)


def test_deciders_are_reminded_once_and_never_the_maker(
    app: Flask, teller: User, approver: User, second_approver: User, account: Account
) -> None:
    made = deposit_request(teller, account, 2_500)
    reminders = app.extensions[EXTENSION].approval_reminders
    with clock_set_to(utcnow() + _later(app, minutes=-5)):
        reminders()
    assert _mails(app) == []  # not yet
    later = utcnow() + _later(app)
    with clock_set_to(later):
        newer = deposit_request(teller, factories.make_account(account.customer, "USD"), 100)
        reminders()
    sent = _mails(app)
    assert sorted(m["to"] for m in sent) == sorted([approver.email, second_approver.email])
    assert all(m["subject"] == f"VAULTA: change request #{made.id} {SUBJECT}" for m in sent)
    assert "25.00 EUR" in sent[0]["body"]
    for step in (timedelta(minutes=15), timedelta(hours=2)):
        with clock_set_to(later + step):
            reminders()
    assert len(_mails(app)) == 2  # once per request, not every run
    rows = db.session.scalars(
        sa.select(Notification).where(Notification.change_request_id == made.id)
    ).all()
    assert [(r.kind, r.payment_id) for r in rows] == [("change_request.reminder", None)]
    with clock_set_to(later + _later(app)):
        reminders()
    assert {m["subject"] for m in _mails(app)} == {
        f"VAULTA: change request #{made.id} {SUBJECT}",
        f"VAULTA: change request #{newer.id} {SUBJECT}",
    }


def test_the_next_level_is_reminded_without_its_past_decider(
    app: Flask, teller: User, approver: User, second_approver: User, account: Account
) -> None:
    made = deposit_request(teller, account, 1_200_000)  # 12,000.00: two approvers
    assert made.levels_required == 2
    change_requests.approve(made.id, actor=approver)
    with clock_set_to(utcnow() + _later(app)):
        app.extensions[EXTENSION].approval_reminders()
    assert [m["to"] for m in _mails(app)] == [second_approver.email]
    assert "level 2 of 2" in _mails(app)[0]["body"]


def test_a_request_decided_before_its_reminder_goes_out_reminds_nobody(
    app: Flask, teller: User, approver: User, account: Account
) -> None:
    made = deposit_request(teller, account, 2_500)
    with clock_set_to(utcnow() + _later(app)):
        assert notifications.make_reminders() == 1
        change_requests.approve(made.id, actor=approver)
        notifications.send_due()
        assert notifications.make_reminders() == 0  # and none is made again
    assert _mails(app) == []
