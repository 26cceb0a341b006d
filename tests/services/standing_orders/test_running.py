"""Running standing orders: one payment per due date through the payment service, the
catch-up rule, pause/resume/cancel, end date and count, a failed run mailed once."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.services.standing_orders.support import accounts_of, mails, make_order
from vaulta.extensions import db
from vaulta.models import AuditEvent, Customer, OutboxEvent, Payment, StandingOrderRun, User
from vaulta.models.account import ACCOUNT_FROZEN
from vaulta.models.payment import PAYMENT_PENDING
from vaulta.services import standing_orders
from vaulta.services.errors import Conflict, NotFound
from vaulta.services.standing_orders import failure_mail, queries, running

JAN_31 = date(2027, 1, 31)


@pytest.fixture(autouse=True)
def _private_outbox(app: Flask, tmp_path: Path) -> None:
    app.config["MAIL_OUTBOX_DIR"] = str(tmp_path / "outbox")
    app.config["STANDING_ORDER_CATCH_UP_DAYS"] = 3


def _runs(order_id: int) -> list[tuple[date, str]]:
    rows = db.session.execute(
        sa.select(StandingOrderRun.due_date, StandingOrderRun.status)
        .where(StandingOrderRun.standing_order_id == order_id)
        .order_by(StandingOrderRun.due_date)
    ).all()
    return [(row.due_date, row.status) for row in rows]


def _payments(order_id: int) -> list[Payment]:
    ids = sa.select(StandingOrderRun.payment_id).where(
        StandingOrderRun.standing_order_id == order_id
    )
    return list(db.session.scalars(sa.select(Payment).where(Payment.id.in_(ids))))


def test_each_due_date_makes_one_payment_awaiting_approval_even_run_twice(
    app: Flask, customer_user: User, other_customer_user: User
) -> None:
    source, target = accounts_of(customer_user, other_customer_user)
    order = make_order(customer_user, source, target, first=JAN_31)
    assert standing_orders.run_due(JAN_31)["created"] == 1
    assert standing_orders.run_due(JAN_31) == {}  # the job again the same day: nothing
    assert standing_orders.run_due(date(2027, 2, 27)) == {}
    assert standing_orders.run_due(date(2027, 2, 28))["created"] == 1  # the month's last day
    assert _runs(order.id) == [(JAN_31, "created"), (date(2027, 2, 28), "created")]
    payments = _payments(order.id)
    assert [(p.status, p.amount_minor, p.currency) for p in payments] == [
        (PAYMENT_PENDING, 1_500, "EUR")
    ] * 2
    assert {p.beneficiary_account_id for p in payments} == {target.id}
    assert queries.get(order.id).next_due_date == date(2027, 3, 31)
    types = db.session.scalars(sa.select(OutboxEvent.type)).all()
    assert types.count("standing_order.created") == 1
    assert types.count("standing_order.run") == 2
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert actions.count("payment.request_standing_order") == 2
    assert actions.count("standing_order.run") == 2


def test_catch_up_pays_recent_missed_dates_and_skips_older_ones(
    app: Flask, customer_user: User, other_customer_user: User
) -> None:
    source, target = accounts_of(customer_user, other_customer_user)
    order = make_order(customer_user, source, target, first=date(2027, 3, 1), frequency="weekly")
    # No worker ran for 20 days: 1, 8, 15 March are older than 3 days; 22 March is not.
    counts = standing_orders.run_due(date(2027, 3, 21) + timedelta(days=3))
    assert counts == {"skipped": 3, "created": 1}
    assert _runs(order.id) == [
        (date(2027, 3, 1), "skipped"),
        (date(2027, 3, 8), "skipped"),
        (date(2027, 3, 15), "skipped"),
        (date(2027, 3, 22), "created"),
    ]
    assert len(_payments(order.id)) == 1


def test_count_and_end_date_complete_the_order(
    app: Flask, customer_user: User, other_customer_user: User
) -> None:
    source, target = accounts_of(customer_user, other_customer_user)
    counted = make_order(
        customer_user, source, target, first=date(2027, 3, 1), frequency="weekly", max_runs=2
    )
    dated = make_order(
        customer_user, source, target, first=date(2027, 3, 1), end_date=date(2027, 4, 15)
    )
    for day in range(0, 70, 1):
        standing_orders.run_due(date(2027, 3, 1) + timedelta(days=day))
    assert [d for d, _ in _runs(counted.id)] == [date(2027, 3, 1), date(2027, 3, 8)]
    assert [d for d, _ in _runs(dated.id)] == [date(2027, 3, 1), date(2027, 4, 1)]
    for order_id in (counted.id, dated.id):
        done = queries.get(order_id)
        assert (done.status, done.next_due_date) == ("completed", None)


def test_pause_resume_cancel(app: Flask, customer_user: User, other_customer_user: User) -> None:
    source, target = accounts_of(customer_user, other_customer_user)
    order = make_order(customer_user, source, target, first=date(2027, 3, 1), frequency="weekly")
    standing_orders.pause(order.id, actor=customer_user)
    with pytest.raises(Conflict):
        standing_orders.pause(order.id, actor=customer_user)
    assert standing_orders.run_due(date(2027, 3, 1)) == {}  # paused: nothing runs
    resumed = standing_orders.resume(order.id, actor=customer_user)
    # Resumed today: the dates passed while paused are not paid later.
    assert resumed.status == "active"
    assert resumed.next_due_date is not None
    assert resumed.next_due_date >= date.today()
    cancelled = standing_orders.cancel(order.id, actor=customer_user)
    assert (cancelled.status, cancelled.next_due_date) == ("cancelled", None)
    with pytest.raises(Conflict):
        standing_orders.resume(order.id, actor=customer_user)
    assert _runs(order.id) == []
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.object_type == "standing_order")
    ).all()
    assert actions == [
        "standing_order.create",
        "standing_order.pause",
        "standing_order.resume",
        "standing_order.cancel",
    ]


def test_another_customer_cannot_see_or_change_an_order(
    app: Flask, customer_user: User, other_customer_user: User
) -> None:
    source, target = accounts_of(customer_user, other_customer_user)
    order = make_order(customer_user, source, target, first=date(2027, 3, 1))
    with pytest.raises(NotFound):
        queries.get_for(order.id, other_customer_user)
    with pytest.raises(NotFound):
        standing_orders.cancel(order.id, actor=other_customer_user)


def test_a_failed_run_is_recorded_and_mails_the_customer_once(
    app: Flask, customer_user: User, other_customer_user: User
) -> None:
    source, target = accounts_of(customer_user, other_customer_user)
    order = make_order(customer_user, source, target, first=date(2027, 3, 1))
    target.status = ACCOUNT_FROZEN
    db.session.commit()
    assert standing_orders.run_due(date(2027, 3, 1)) == {"failed": 1}
    [run] = db.session.scalars(sa.select(StandingOrderRun)).all()
    assert run.payment_id is None
    assert run.error
    assert "no open VAULTA account" in run.error
    assert run.mailed_at is not None
    standing_orders.run_due(date(2027, 3, 1))  # the job again: no second mail
    assert failure_mail.send_due() == 0
    sent = mails(app)
    assert [(m["to"], m["subject"]) for m in sent] == [
        (customer_user.email, f"VAULTA: your standing order #{order.id} could not pay")
    ]
    assert "2027-03-01" in sent[0]["body"]
    assert queries.get(order.id).next_due_date == date(2027, 4, 1)  # the order goes on


def test_a_failure_mail_that_could_not_be_sent_goes_out_later(
    app: Flask, customer_user: User, other_customer_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target = accounts_of(customer_user, other_customer_user)
    make_order(customer_user, source, target, first=date(2027, 3, 1))
    source.status = ACCOUNT_FROZEN
    db.session.commit()

    def smtp_down(*args: object) -> None:
        raise OSError("SMTP down")

    monkeypatch.setattr(failure_mail.mail, "send", smtp_down)
    standing_orders.run_due(date(2027, 3, 1))
    monkeypatch.undo()
    assert mails(app) == []
    db.session.execute(sa.update(StandingOrderRun).values(mail_claimed_at=None))  # lease lapsed
    db.session.commit()
    assert failure_mail.send_due() == 1
    assert len(mails(app)) == 1


def test_the_unique_due_date_refuses_a_second_run_and_its_payment(
    app: Flask, customer_user: User, other_customer_user: User
) -> None:
    """A runner that got past the lock (it read the order before another's commit) still
    cannot make a second run: the insert fails and its payment rolls back with it."""
    source, target = accounts_of(customer_user, other_customer_user)
    order = make_order(customer_user, source, target, first=date(2027, 3, 1))
    db.session.add(
        StandingOrderRun(standing_order_id=order.id, due_date=date(2027, 3, 1), status="created")
    )
    db.session.commit()
    assert running.run_next(order.id, date(2027, 3, 1)) is None
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0
    assert _runs(order.id) == [(date(2027, 3, 1), "created")]


def test_staff_set_up_runs_pay_as_the_teller_and_fail_once_the_login_is_gone(
    app: Flask, teller: User, customer_user: User, other_customer_user: User
) -> None:
    source, target = accounts_of(customer_user, other_customer_user)
    order = make_order(
        teller, source, target, first=date(2027, 3, 1), customer_id=source.customer_id
    )
    standing_orders.run_due(date(2027, 3, 1))
    [payment] = _payments(order.id)
    assert payment.requested_by_id == teller.id  # four eyes: the teller decides nothing
    teller.is_active = False
    db.session.commit()
    assert standing_orders.run_due(date(2027, 4, 1)) == {"failed": 1}
    assert len(mails(app)) == 1  # the customer is told


def test_a_run_over_the_daily_limit_fails_with_the_reason(
    app: Flask, customer_user: User, other_customer_user: User
) -> None:
    source, target = accounts_of(customer_user, other_customer_user)
    make_order(customer_user, source, target, first=date(2027, 3, 1), amount_minor=1_500)
    db.session.execute(
        sa.update(Customer)
        .where(Customer.id == source.customer_id)
        .values(daily_outgoing_limit_minor=1_000)
    )
    db.session.commit()
    assert standing_orders.run_due(date(2027, 3, 1)) == {"failed": 1}
    [run] = db.session.scalars(sa.select(StandingOrderRun)).all()
    assert run.payment_id is None
    assert "above the daily limit of 10.00 EUR" in (run.error or "")
