"""Dashboard figures without HTTP: each equals the same figure computed the slow, obvious
way, and every query reads through an index (no full scan of transactions or payments)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.services.fx.support import load_rates, two_accounts
from tests.services.payments.factories import make_payment
from tests.statement_support import as_of, day_after, deposit_on, open_account_on, withdraw_on
from vaulta.extensions import db
from vaulta.models import Account, Posting, User, utcnow
from vaulta.models.account import KIND_CUSTOMER
from vaulta.models.base import clock_set_to
from vaulta.services import ledger
from vaulta.services.banking import accounts
from vaulta.services.changes import change_requests
from vaulta.services.ledger import Leg, post_entry
from vaulta.services.ledger.fx import quotes
from vaulta.services.payments import approvals
from vaulta.services.reports import customer_dashboard, staff_dashboard
from vaulta.services.reports.statement_archive import month_start
from vaulta.services.unit_of_work import write_transaction

NOW = utcnow()
TODAY = NOW.date()
# Monday of last week: three decisions that week, at known waits.
MONDAY = TODAY - timedelta(days=TODAY.weekday() + 7)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


@pytest.fixture
def book(app: Flask, teller: User, approver: User, customer_user: User) -> dict[str, Account]:
    """A customer's EUR and USD accounts with payments requested, decided and waiting."""
    customer = factories.customer_of(customer_user)
    eur = open_account_on(customer.id, TODAY - timedelta(days=60), teller)
    usd = open_account_on(customer.id, TODAY - timedelta(days=60), teller, "USD")
    payee = factories.make_account(factories.make_customer(), "EUR")
    deposit_on(eur, TODAY - timedelta(days=59), 1_000_00, teller)
    deposit_on(usd, TODAY - timedelta(days=59), 500_00, teller)

    def decided(requested: datetime, decided_at: datetime, approve: bool) -> None:
        with clock_set_to(requested):
            payment = make_payment(customer_user, eur, to=payee, amount="10.00")
        with clock_set_to(decided_at):
            if approve:
                approvals.approve(payment.id, actor=approver)
            else:
                approvals.reject(payment.id, actor=approver, reason="No")

    decided(at(TODAY - timedelta(days=40), 9), at(TODAY - timedelta(days=40), 10), True)
    decided(at(MONDAY, 10), at(MONDAY, 12), True)  # 2 h
    decided(at(MONDAY + timedelta(days=1), 9), at(MONDAY + timedelta(days=2), 9), False)  # 24 h
    decided(at(MONDAY + timedelta(days=2), 8), at(MONDAY + timedelta(days=2), 8, 30), True)
    for hours_ago in (0.25, 2, 30, 24 * 4):
        with clock_set_to(NOW - timedelta(hours=hours_ago)):
            make_payment(customer_user, usd if hours_ago == 2 else eur, to=None, amount="1.00")
    return {"eur": eur, "usd": usd, "payee": payee}


def test_payments_per_day(book: dict[str, Account]) -> None:
    rows = staff_dashboard.payments_per_day(30, today=TODAY)
    by_key = {(r.day, r.currency, r.status): (r.count, r.amount_minor) for r in rows}
    assert by_key[(MONDAY, "EUR", "executed")] == (1, 10_00)
    assert by_key[(MONDAY + timedelta(days=1), "EUR", "rejected")] == (1, 10_00)
    assert sum(r.count for r in rows if r.status == "pending_approval") == 4
    assert sum(r.count for r in rows if r.currency == "USD") == 1
    assert all(r.day >= TODAY - timedelta(days=29) for r in rows)
    assert sum(r.count for r in rows) == 7  # the one 40 days ago is outside 30 days
    assert sum(r.count for r in staff_dashboard.payments_per_day(90, today=TODAY)) == 8


def test_approval_backlog_by_age(book: dict[str, Account]) -> None:
    backlog = staff_dashboard.approval_backlog(now=NOW)
    assert dict(backlog.buckets) == {
        "under 1 hour": 1,
        "1 to 24 hours": 1,
        "1 to 3 days": 1,
        "3 to 7 days": 1,
        "over 7 days": 0,
    }
    assert backlog.total == 4
    assert backlog.oldest_at == NOW - timedelta(days=4)


def test_time_to_decision_per_week(book: dict[str, Account]) -> None:
    weeks = staff_dashboard.decision_times(12, now=NOW)
    assert len(weeks) == 12
    assert weeks[-1].week == TODAY - timedelta(days=TODAY.weekday())
    last_week = {w.week: w for w in weeks}[MONDAY]
    assert last_week.decided == 3
    assert last_week.median_seconds == 2 * 3600  # 30 min, 2 h, 24 h
    assert last_week.p90_seconds == 24 * 3600
    assert sum(w.decided for w in weeks) == 4  # and the one 40 days ago
    assert all(w.median_seconds == 0 for w in weeks if not w.decided)


def test_balances_by_currency_are_what_customers_hold(book: dict[str, Account]) -> None:
    rows = db.session.execute(
        sa.select(Account.currency, sa.func.sum(Account.balance_minor))
        .where(Account.kind == KIND_CUSTOMER)
        .group_by(Account.currency)
    )
    slow = {currency: int(total) for currency, total in rows}
    figures = staff_dashboard.balances_by_currency()
    assert {b.currency: b.customer_total_minor for b in figures} == slow
    assert slow["EUR"] == 1_000_00
    assert slow["USD"] == 500_00


def test_largest_movements_of_the_day(app: Flask, teller: User) -> None:
    account = factories.make_account(factories.make_customer(), "EUR")
    deposit_on(account, TODAY - timedelta(days=1), 9_999_00, teller, "Yesterday")
    for amount in (5_00, 70_00, 3_00):
        ledger.deposit(account, amount, actor=teller, description=f"Today {amount}")
    moves = staff_dashboard.largest_movements(2, today=TODAY)
    assert [m.amount_minor for m in moves] == [70_00, 5_00]
    assert moves[0].credit == account.number
    assert moves[0].description == "Today 7000"


def test_customer_activity_matches_the_ledger(app: Flask, teller: User) -> None:
    account = open_account_on(factories.make_customer().id, TODAY - timedelta(days=200), teller)
    for days_ago, amount in ((190, 50_000), (120, 7_000), (89, 999), (40, 12_345), (1, 5)):
        deposit_on(account, TODAY - timedelta(days=days_ago), amount, teller)
        withdraw_on(account, TODAY - timedelta(days=days_ago), amount // 3, teller)
    deposit_on(account, TODAY, 1, teller)
    activity = customer_dashboard.account_activity(account, today=TODAY)
    assert len(activity.balances) == customer_dashboard.BALANCE_DAYS
    assert activity.balances[-1] == (TODAY, as_of(account, day_after(TODAY)))
    for day, balance in activity.balances:
        assert balance == as_of(account, day_after(day)), day
    assert len(activity.months) == customer_dashboard.FLOW_MONTHS
    assert activity.months[-1].month == month_start(TODAY)
    for flow in activity.months:
        following = (flow.month + timedelta(days=32)).replace(day=1)
        net = as_of(account, following) - as_of(account, flow.month)
        assert flow.money_in_minor - flow.money_out_minor == net, flow.month


def test_customer_activity_counts_postings_of_conversions_and_multi_leg_entries(
    app: Flask, admin: User, customer_user: User
) -> None:
    """A conversion's to-account gets the amount it received in its own currency, a
    three-leg entry's payer the principal plus the fee, and a backdated entry counts on its
    value date: the charts read postings, not transaction headers."""
    load_rates()
    eur, usd = two_accounts(customer_user, eur_minor=100_000)
    quote = quotes.request_quote(
        customer_user, from_account_id=eur.id, to_account_id=usd.id, amount_minor=10_000
    )
    made = change_requests.submit("ledger.conversion", {"quote_id": quote.id}, actor=customer_user)
    received = db.session.scalar(
        sa.select(Posting.amount_minor).where(
            Posting.transaction_id == made.result["transaction_id"], Posting.account_id == usd.id
        )
    )
    assert received is not None
    assert received != 10_000  # USD cents, not the EUR amount
    payee = factories.make_account(factories.make_customer(), "EUR")
    yesterday = TODAY - timedelta(days=1)
    with write_transaction() as s:
        post_entry(
            s,
            [
                Leg(eur.id, -5_150),
                Leg(payee.id, 5_000),
                Leg(accounts.system_account("EUR").id, 150),
            ],
            kind="payment",
            description="Invoice with fee",
            actor_id=admin.id,
            value_date=yesterday,
            from_account_id=eur.id,
            to_account_id=payee.id,
            principal_minor=5_000,
        )
    eur_activity = customer_dashboard.account_activity(eur, today=TODAY)
    usd_activity = customer_dashboard.account_activity(usd, today=TODAY)
    assert usd_activity.balances[-1] == (TODAY, received)
    assert usd_activity.balances[-2] == (yesterday, 0)
    assert usd_activity.months[-1].money_in_minor == received
    assert eur_activity.balances[-1] == (TODAY, 100_000 - 5_150 - 10_000)
    assert eur_activity.balances[-2] == (yesterday, as_of(eur, TODAY))
    eur_flows = {(f.month, f.money_in_minor, f.money_out_minor) for f in eur_activity.months}
    if month_start(yesterday) == month_start(TODAY):
        assert (month_start(TODAY), 100_000, 15_150) in eur_flows
    else:
        assert (month_start(yesterday), 0, 5_150) in eur_flows
        assert (month_start(TODAY), 100_000, 10_000) in eur_flows
    for activity, account in ((eur_activity, eur), (usd_activity, usd)):
        for day, held in activity.balances:
            assert held == as_of(account, day_after(day)), day


@contextmanager
def captured() -> Iterator[list[tuple[str, object]]]:
    statements: list[tuple[str, object]] = []

    def keep(_conn: object, _cursor: object, sql: str, params: object, *_rest: object) -> None:
        if sql.lstrip().upper().startswith("SELECT"):
            statements.append((sql, params))

    sa.event.listen(db.engine, "before_cursor_execute", keep)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", keep)


FIGURES: list[Callable[[dict[str, Account]], object]] = [
    lambda _b: staff_dashboard.payments_per_day(90),
    lambda _b: staff_dashboard.approval_backlog(),
    lambda _b: staff_dashboard.decision_times(12),
    lambda _b: staff_dashboard.balances_by_currency(),
    lambda _b: staff_dashboard.largest_movements(),
    lambda b: customer_dashboard.account_activity(b["eur"]),
]


@pytest.mark.parametrize("figure", range(len(FIGURES)))
def test_every_figure_reads_through_an_index(
    book: dict[str, Account], backend: str, figure: int
) -> None:
    """No plan scans transactions, payments or postings whole (PostgreSQL: even with sequential
    scans priced out, so the plan shows what the indexes can serve)."""
    with captured() as statements:
        FIGURES[figure](book)
    assert statements
    with db.engine.connect() as conn:
        for sql, params in statements:
            if backend == "postgresql":
                conn.exec_driver_sql("SET enable_seqscan = off")
                plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql, params))
                for table in ("transactions", "payments", "postings"):
                    assert f"Seq Scan on {table}" not in plan, plan
            else:
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
                plan = "\n".join(str(r[-1]) for r in rows)
                for table in ("transactions", "payments", "postings"):
                    assert f"SCAN {table}\n" not in plan + "\n", plan
                    assert f"SCAN {table} " not in plan, plan
