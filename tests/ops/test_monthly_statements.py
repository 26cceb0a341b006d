"""Monthly statements by the scheduler: one per open customer account for the newest month
whose backdating window has closed, kept once (a second run issues nothing), none while the
window is open, and the same bytes as the account page serves."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.statement_support import (
    backdating_closed,
    backdating_open,
    deposit_on,
    open_account_on,
    withdraw_on,
)
from tests.webclient import WebClient
from vaulta.accounts import statement_pdf
from vaulta.extensions import db
from vaulta.models import Account, AuditEvent, MonthlyStatement, User, utcnow
from vaulta.models.base import clock_set_to
from vaulta.ops.queue import EXTENSION
from vaulta.ops.statements import batch_key, due_month, last_month
from vaulta.services.banking import accounts
from vaulta.services.reports import statement_archive

THIS_MONTH = utcnow().date().replace(day=1)
LAST_MONTH = (THIS_MONTH - timedelta(days=1)).replace(day=1)


def _kept() -> dict[int, bytes]:
    rows = db.session.execute(sa.select(MonthlyStatement.account_id, MonthlyStatement.pdf))
    return {account_id: bytes(pdf) for account_id, pdf in rows}


def _issued_events() -> list[AuditEvent]:
    stmt = sa.select(AuditEvent).where(AuditEvent.action == "statement.issued")
    return list(db.session.scalars(stmt))


def _run(app: Flask) -> None:
    """The job on the day LAST_MONTH's backdating window closes."""
    with clock_set_to(backdating_closed(LAST_MONTH)):
        app.extensions[EXTENSION].monthly_statements()
    db.session.rollback()  # see what the job's own session committed


def test_last_month_is_the_calendar_month_before() -> None:
    assert last_month(date(2026, 1, 1)) == date(2025, 12, 1)
    assert last_month(date(2026, 3, 31)) == date(2026, 2, 1)


def test_the_due_month_waits_for_the_backdating_window(app: Flask) -> None:
    assert app.config["LEDGER_BACKDATE_DAYS"] == 5
    assert due_month(date(2026, 12, 5)) == date(2026, 10, 1)  # November still open
    assert due_month(date(2026, 12, 6)) == date(2026, 11, 1)
    app.config["LEDGER_BACKDATE_DAYS"] = 40
    assert due_month(date(2026, 12, 6)) == date(2026, 9, 1)


def test_the_job_keeps_nothing_of_a_month_still_open_to_backdating(
    app: Flask, client: WebClient, customer_user: User, teller: User
) -> None:
    account = open_account_on(
        factories.customer_of(customer_user).id, LAST_MONTH + timedelta(days=2), teller
    )
    deposit_on(account, LAST_MONTH + timedelta(days=3), 50_000, teller, "Salary")
    with clock_set_to(backdating_closed(LAST_MONTH) - timedelta(minutes=10)):
        app.extensions[EXTENSION].monthly_statements()
        app.extensions[EXTENSION].statements_batch(LAST_MONTH.isoformat(), [account.id])
    db.session.rollback()
    assert _kept() == {}  # the account was opened after the month the job was due for
    assert _issued_events() == []
    _run(app)
    assert set(_kept()) == {account.id}


def test_the_job_issues_last_months_statements_once(
    app: Flask, client: WebClient, customer_user: User, teller: User
) -> None:
    app.config["STATEMENT_BATCH_SIZE"] = 2  # several batches
    customer_id = factories.customer_of(customer_user).id
    opened = LAST_MONTH - timedelta(days=20)
    mine = open_account_on(customer_id, opened, teller)
    deposit_on(mine, LAST_MONTH + timedelta(days=3), 50_000, teller, "Salary")
    withdraw_on(mine, LAST_MONTH + timedelta(days=9), 1_234, teller, "Rent")
    others = [open_account_on(factories.make_customer().id, opened, teller) for _ in range(3)]
    closed = open_account_on(factories.make_customer().id, opened, teller)
    accounts.close_account(closed.id, actor=teller, reason="Customer left")
    newer = open_account_on(customer_id, THIS_MONTH, teller, "USD")  # no month over yet

    _run(app)
    kept = _kept()
    expected = {mine.id, *(a.id for a in others)}
    assert set(kept) == expected  # not the closed, the new or the system accounts
    assert closed.id not in kept
    assert newer.id not in kept
    events = _issued_events()
    assert len(events) == len(expected)
    assert {e.actor_id for e in events} == {None}  # the scheduler

    _run(app)  # again: nothing new, nothing replaced
    assert _kept() == kept
    assert len(_issued_events()) == len(expected)

    client.sign_in(customer_user)
    url = f"/accounts/{mine.number}/statements/{LAST_MONTH.isoformat()[:7]}.pdf"
    response = client.get(url)  # today: as kept, whether or not the window has closed yet
    assert response.status_code == 200
    assert response.data == kept[mine.id]
    assert len(_issued_events()) == len(expected)  # served as kept, not issued again


def test_the_job_and_the_first_request_write_the_same_document(
    app: Flask, client: WebClient, customer_user: User, teller: User
) -> None:
    customer_id = factories.customer_of(customer_user).id
    account = open_account_on(customer_id, LAST_MONTH - timedelta(days=5), teller)
    deposit_on(account, LAST_MONTH + timedelta(days=1), 7_500, teller, "Gift")
    client.sign_in(customer_user)
    month = LAST_MONTH.isoformat()[:7]
    with clock_set_to(backdating_closed(LAST_MONTH)):
        on_request = client.get(f"/accounts/{account.number}/statements/{month}.pdf").data
        kept = statement_archive.stored(account.id, LAST_MONTH)
        assert kept is not None
        assert kept.pdf == on_request
        loaded = db.session.get(Account, account.id)
        assert loaded is not None
        assert statement_pdf.render_month(loaded, LAST_MONTH) == on_request  # deterministic

    _run(app)  # the job finds it kept and leaves it
    assert _kept() == {account.id: on_request}
    assert len(_issued_events()) == 1


def test_the_command_issues_a_chosen_month(app: Flask, teller: User) -> None:
    two_back = (LAST_MONTH - timedelta(days=1)).replace(day=1)
    account = open_account_on(factories.make_customer().id, two_back, teller)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["vaulta", "issue-statements", "--month", two_back.isoformat()[:7]])
    assert result.exit_code == 0, result.output
    assert "Issued 1 statement(s)" in result.output
    assert statement_archive.stored(account.id, two_back) is not None
    again = runner.invoke(args=["vaulta", "issue-statements", "--month", two_back.isoformat()[:7]])
    assert "Issued 0 statement(s)" in again.output
    for bad in ("2025-13", THIS_MONTH.isoformat()[:7]):
        refused = runner.invoke(args=["vaulta", "issue-statements", "--month", bad])
        assert refused.exit_code == 2, bad
    last = LAST_MONTH.isoformat()[:7]
    with clock_set_to(backdating_open(LAST_MONTH)):
        refused = runner.invoke(args=["vaulta", "issue-statements", "--month", last])
        assert refused.exit_code == 2
        closes = statement_archive.window_closes(LAST_MONTH).isoformat()
        assert f"may still be dated into {last} until {closes}" in refused.output
        default = runner.invoke(args=["vaulta", "issue-statements"])
        assert f"Issued 0 statement(s) for {two_back:%Y-%m}." in default.output
    with clock_set_to(backdating_closed(LAST_MONTH)):
        done = runner.invoke(args=["vaulta", "issue-statements"])
    assert f"Issued 1 statement(s) for {last}." in done.output
    assert statement_archive.stored(account.id, LAST_MONTH) is not None


def test_a_batch_enqueued_twice_is_issued_by_one_copy(app: Flask, teller: User) -> None:
    account = open_account_on(factories.make_customer().id, LAST_MONTH, teller)
    month = LAST_MONTH.isoformat()
    jobs = app.extensions[EXTENSION]
    assert jobs.huey.put_if_empty(batch_key(month, [account.id]), 1)  # another copy has it
    with clock_set_to(backdating_closed(LAST_MONTH)):
        jobs.statements_batch(month, [account.id])
        assert statement_archive.stored(account.id, LAST_MONTH) is None
        jobs.statements_batch(month, [account.id, account.id])  # another batch: its own claim
    assert statement_archive.stored(account.id, LAST_MONTH) is not None
