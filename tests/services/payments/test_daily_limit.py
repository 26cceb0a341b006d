"""A customer's daily outgoing limit: payments are refused when made (customer form, staff)
and fail when executed (one or in bulk) once today's total in their currency would exceed
it; other currencies, other days and refused payments do not count (services, both
databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from tests.helpers import balance
from tests.services.payments.factories import make_payment, status_of
from vaulta.extensions import db
from vaulta.models import Account, Customer, Payment, User
from vaulta.services.errors import DailyLimitExceeded
from vaulta.services.payments import approvals, bulk_decisions, daily_limit, staff_payments
from vaulta.services.payments.payment_creation import PaymentOrder


def _limit(account: Account, minor: int | None) -> None:
    db.session.execute(
        sa.update(Customer)
        .where(Customer.id == account.customer_id)
        .values(daily_outgoing_limit_minor=minor)
    )
    db.session.commit()


def test_no_limit_means_no_refusal(customer_user: User, source: Account, target: Account) -> None:
    make_payment(customer_user, source, to=target, amount="900.00")
    make_payment(customer_user, source, to=target, amount="90.00")


def test_a_payment_over_todays_limit_is_refused_when_made(
    customer_user: User, source: Account, target: Account
) -> None:
    _limit(source, 30_000)  # 300.00 EUR a day
    make_payment(customer_user, source, to=target, amount="200.00")
    make_payment(customer_user, source, to=target, amount="100.00", confirm=False)  # counts too
    with pytest.raises(DailyLimitExceeded) as err:
        make_payment(customer_user, source, to=target, amount="0.01")
    assert err.value.field == "amount"
    assert err.value.code == "daily_limit_exceeded"
    assert "300.01" in err.value.message
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 2


def test_staff_entered_payments_are_limited_too(
    teller: User, customer_user: User, source: Account, target: Account
) -> None:
    _limit(source, 5_000)
    order = PaymentOrder(
        from_account=source.number, reference="Rent", amount="50.01", to_account=target.number
    )
    with pytest.raises(DailyLimitExceeded):
        staff_payments.enter_for_customer(actor=teller, customer_id=source.customer_id, order=order)


def test_other_currencies_and_other_days_do_not_count(
    customer_user: User, source: Account, target: Account
) -> None:
    usd = factories.make_account(factories.customer_of(customer_user), "USD", 100_000)
    usd_target = factories.make_account(factories.make_customer(), "USD")
    _limit(source, 10_000)
    make_payment(customer_user, usd, to=usd_target, amount="100.00")
    yesterday = make_payment(customer_user, source, to=target, amount="100.00")
    db.session.execute(
        sa.update(Payment)
        .where(Payment.id == yesterday.id)
        .values(created_at=datetime.now(UTC) - timedelta(days=1))
    )
    db.session.commit()
    make_payment(customer_user, source, to=target, amount="100.00")
    assert (
        daily_limit.outgoing_of_day(
            db.session, source.customer_id or 0, "EUR", now=datetime.now(UTC)
        )
        == 10_000
    )


def test_execution_rechecks_against_a_lowered_limit(
    customer_user: User, approver: User, source: Account, target: Account
) -> None:
    first = make_payment(customer_user, source, to=target, amount="60.00")
    second = make_payment(customer_user, source, to=target, amount="50.00")
    _limit(source, 10_000)  # lowered after both were made: 110.00 > 100.00
    done = approvals.approve(first.id, actor=approver)
    assert done.status == "failed"
    assert "daily limit" in (done.failure_reason or "")
    # The failed one no longer counts: the second fits.
    assert approvals.approve(second.id, actor=approver).status == "executed"
    assert balance(source) == 100_000 - 5_000


def test_bulk_execution_fails_only_the_payments_over_the_limit(
    customer_user: User, other_customer_user: User, approver: User, source: Account, target: Account
) -> None:
    other = factories.make_account(factories.customer_of(other_customer_user), "EUR", 100_000)
    mine = make_payment(customer_user, source, to=target, amount="80.00")
    theirs = make_payment(other_customer_user, other, to=source, amount="30.00")
    also_mine = make_payment(customer_user, source, to=target, amount="30.00")
    _limit(source, 10_000)
    decided = bulk_decisions.execute_batch([mine.id, theirs.id, also_mine.id], actor=approver)
    assert {pid: p.status for pid, p in decided.items()} == {
        mine.id: "failed",
        theirs.id: "executed",
        also_mine.id: "failed",
    }
    assert status_of(mine.id) == "failed"
    assert balance(source) == 100_000 + 3_000
