"""The dashboard's change-request figures (every action): the inbox backlog by age and the
weekly time from request to decision, each equal to what the requests say, and both read
through an index of change_requests (no full scan)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask import Flask

from tests import factories
from tests.services.test_dashboards import captured
from tests.web.inbox.conftest import deposit_request
from vaulta.extensions import db
from vaulta.models import Account, User, utcnow
from vaulta.models.base import clock_set_to
from vaulta.services.changes import change_requests
from vaulta.services.reports import request_dashboard

NOW = utcnow()
TODAY = NOW.date()
MONDAY = TODAY - timedelta(days=TODAY.weekday() + 7)  # of last week


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


@pytest.fixture
def requests(app: Flask, teller: User, approver: User) -> list[Account]:
    """Change requests decided last week after known waits, one cancelled, four waiting."""
    app.config["CHANGE_REQUEST_TTL_HOURS"] = 14 * 24  # the 4-day-old one still waits
    accounts = [factories.make_account(factories.make_customer(), "EUR") for _ in range(8)]

    def decided(account: Account, made: datetime, decided_at: datetime, approve: bool) -> None:
        with clock_set_to(made):
            request = deposit_request(teller, account, 1_000)
        with clock_set_to(decided_at):
            if approve:
                change_requests.approve(request.id, actor=approver)
            else:
                change_requests.reject(request.id, actor=approver, reason="No")

    decided(accounts[0], at(MONDAY, 10), at(MONDAY, 12), True)  # 2 h
    decided(accounts[1], at(MONDAY, 9), at(MONDAY + timedelta(days=1), 9), False)  # 24 h
    decided(
        accounts[2], at(MONDAY + timedelta(days=2), 8), at(MONDAY + timedelta(days=2), 8, 30), True
    )
    with clock_set_to(NOW - timedelta(hours=1, minutes=30)):
        cancelled = deposit_request(teller, accounts[3], 500)
    change_requests.cancel(cancelled.id, actor=teller)
    for account, hours_ago in zip(accounts[4:], (0.25, 2, 30, 24 * 4), strict=True):
        with clock_set_to(NOW - timedelta(hours=hours_ago)):
            deposit_request(teller, account, 700)
    return accounts


def test_inbox_backlog_by_age(requests: list[Account]) -> None:
    backlog = request_dashboard.inbox_backlog(now=NOW)
    assert backlog.buckets == [
        ("under 1 hour", 1),
        ("1 to 24 hours", 1),
        ("1 to 3 days", 1),
        ("3 to 7 days", 1),
        ("over 7 days", 0),
    ]
    assert backlog.total == 4
    assert backlog.oldest_at is not None
    assert abs((backlog.oldest_at - (NOW - timedelta(days=4))).total_seconds()) < 1


def test_time_to_decision_per_week(requests: list[Account]) -> None:
    weeks = request_dashboard.decision_times(4, now=NOW)
    assert [w.week for w in weeks][-2:] == [MONDAY, MONDAY + timedelta(weeks=1)]
    last = weeks[-2]
    assert last.decided == 3  # the cancelled one was never decided
    assert last.median_seconds == 2 * 3600
    assert last.p90_seconds == 24 * 3600
    assert weeks[-1].decided == 0


@pytest.mark.parametrize("figure", ["backlog", "decisions"])
def test_each_figure_reads_through_an_index(
    requests: list[Account], backend: str, figure: str
) -> None:
    with captured() as statements:
        if figure == "backlog":
            request_dashboard.inbox_backlog()
        else:
            request_dashboard.decision_times(12)
    assert statements
    with db.engine.connect() as conn:
        for sql, params in statements:
            if backend == "postgresql":
                conn.exec_driver_sql("SET enable_seqscan = off")
                plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql, params))
                assert "Seq Scan on change_requests" not in plan, plan
            else:
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
                plan = "\n".join(str(r[-1]) for r in rows)
                assert "SCAN change_requests\n" not in plan + "\n", plan
                assert "SCAN change_requests " not in plan, plan
