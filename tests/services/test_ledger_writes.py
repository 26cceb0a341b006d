"""How a movement is written (ledger.writes): the same rows on both backends, in fewer
statements on PostgreSQL, and nothing at all when any part of it fails."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.helpers import balance, count_rows, sql_statements
from tests.services.payments.factories import make_payment
from vaulta.extensions import db
from vaulta.models import (
    Account,
    AuditEvent,
    Customer,
    Hold,
    OutboxEvent,
    Payment,
    Transaction,
    User,
)
from vaulta.services import audit
from vaulta.services.ledger.checks import verify_ledger
from vaulta.services.ledger.writes import (
    RESERVE_TRANSACTION_ID,
    FollowUp,
    _one_statement,
    write_movement,
)
from vaulta.services.payments import approvals
from vaulta.services.unit_of_work import write_transaction


def test_an_approval_takes_five_statements_on_postgresql_twelve_on_sqlite(
    backend: str, customer_user: User, approver: User
) -> None:
    source = factories.make_account(factories.customer_of(customer_user), "EUR", 100_000)
    target = factories.make_account(factories.make_customer(), "EUR")
    payment = make_payment(customer_user, source, to=target, amount="10.00")
    assert approver.role_names == {"approver"}  # loaded now, not inside the count
    with sql_statements() as sent:
        done = approvals.approve(payment.id, actor=approver)
    assert done.status == "executed"
    # The maintenance check (once on PostgreSQL, with the write barrier; before and after
    # BEGIN IMMEDIATE on SQLite), then the lock (which reserves the transaction's id on
    # PostgreSQL), then the writes, then the audit events chained as it commits: the chain
    # head locked (with the events' ids on PostgreSQL), the events inserted and the head
    # moved (one statement on PostgreSQL). The outbox's business events go with the writes
    # (in the one statement on PostgreSQL, one more on SQLite).
    checks = [s for s in sent if "maintenance_mode" in s]
    assert len(checks) == (1 if backend == "postgresql" else 2), sent
    #
    # The payment is decided as its change request (payments.payment): the lock also locks
    # the request and reads its levels, whether this approver decided it before and whether
    # a policy changed since (no policy evaluation unless one did: the policy that applied
    # was evaluated and stored when the payment reached the queue). Added: one statement on
    # PostgreSQL (the request's conditional update, with its decision inserted in its WITH),
    # two on SQLite (the decision's insert and the request's update); the request's
    # ``change_request.decided`` event goes with the payment's own outbox rows. So 4 → 5 on
    # PostgreSQL and 8 → 10 on SQLite (557c90a's policy evaluation had made it 13).
    # Ledger v2's two postings are one more WITH clause on PostgreSQL (still 5) and one
    # more INSERT on SQLite (11).
    # The payment's hold (placed when it was confirmed) is read with the lock and captured
    # with the posting: the balance update lowers the held amount, the hold's update is one
    # more WITH clause and its ``hold.captured`` event another outbox row on PostgreSQL
    # (still 5); on SQLite the hold's update is one more statement (12).
    writes = [s for s in sent if not s.startswith(("BEGIN", "PRAGMA")) and s not in checks]
    assert len(writes) == (5 if backend == "postgresql" else 12), writes
    assert sum("postings" in w for w in writes) == 1
    assert sum("UPDATE holds" in w for w in writes) == 1
    if backend == "postgresql":
        assert "UPDATE holds" in next(w for w in writes if "postings" in w)
    assert "FOR UPDATE" in writes[0] or backend == "sqlite"
    assert "change_requests" in writes[0]
    assert sum("change_requests" in w for w in writes[1:]) == 1
    assert sum("INSERT INTO change_decisions" in w for w in writes) == 1
    chained = 2 if backend == "postgresql" else 3
    assert "audit_chain_head" in writes[-chained]
    assert "INSERT INTO audit_events" in writes[-chained + 1]
    tx = db.session.get(Transaction, done.transaction_id)
    assert tx is not None
    assert (tx.debit_account_id, tx.credit_account_id, tx.amount_minor) == (
        source.id,
        target.id,
        1_000,
    )
    assert db.session.get(Payment, payment.id).transaction_id == tx.id  # type: ignore[union-attr]
    events = db.session.scalars(
        sa.select(AuditEvent).where(
            sa.or_(
                sa.and_(
                    AuditEvent.object_type == "transaction", AuditEvent.object_id == str(tx.id)
                ),
                sa.and_(
                    AuditEvent.object_type == "payment", AuditEvent.action == "payment.approve"
                ),
            )
        )
    ).all()
    assert sorted(e.action for e in events) == ["payment.approve", "transaction.payment"]
    request_events = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.object_type == "change_request")
    ).all()
    assert sorted(request_events) == [
        "change_request.approve",
        "change_request.execute",
        "change_request.submit",
    ]
    assert all(e.actor_id == approver.id and e.created_at is not None for e in events)
    outbox = db.session.scalars(sa.select(OutboxEvent).order_by(OutboxEvent.id)).all()
    request_id = db.session.get(Payment, payment.id).change_request_id  # type: ignore[union-attr]
    hold = db.session.scalars(sa.select(Hold).where(Hold.payment_id == payment.id)).one()
    assert (hold.status, hold.captured_minor, hold.transaction_id) == ("captured", 1_000, tx.id)
    assert db.session.get(Account, source.id).held_minor == 0  # type: ignore[union-attr]
    hold_events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.object_type == "hold")
    ).all()
    assert [(e.action, e.actor_id) for e in hold_events if e.action != "hold.place"] == [
        ("hold.capture", approver.id)
    ]
    assert [(e.type, e.payload["id"]) for e in outbox[-4:]] == [
        ("transaction.posted", tx.id),
        ("payment.executed", payment.id),
        ("change_request.decided", request_id),
        ("hold.captured", hold.id),
    ]
    assert outbox[-3].payload["transaction_id"] == tx.id
    assert outbox[-2].payload["status"] == "approved"
    assert outbox[-2].payload["result"] == {"payment_id": payment.id, "transaction_id": tx.id}
    assert outbox[-1].payload["transaction_id"] == tx.id
    assert verify_ledger() == []


def test_the_reserved_id_is_a_sequence_on_postgresql_and_null_on_sqlite(backend: str) -> None:
    reserved = db.session.scalar(sa.select(RESERVE_TRANSACTION_ID))
    db.session.commit()
    assert (reserved is None) == (backend == "sqlite")


# A follow-up for these tests: it writes a row that the movement does not touch.
_RENAME = (
    sa.update(Customer)
    .where(Customer.id == sa.bindparam("renamed_id"))
    .values(full_name=sa.bindparam("new_name"), updated_at=sa.func.now())
)


def _movement(admin: User, debit: Account, credit: Account, reserved: int | None) -> dict:
    return {
        "id": reserved,
        "debit_account_id": debit.id,
        "credit_account_id": credit.id,
        "amount_minor": 500,
        "currency": "EUR",
        "kind": "transfer",
        "description": "Written directly",
        "reference": None,
        "reverses_id": None,
        "created_by_id": admin.id,
        "idempotency_key": None,
    }


def _funded_pair() -> tuple[Account, Account, Customer]:
    """10.00 EUR to move, an empty EUR account, and the customer who owns the latter."""
    debit = factories.make_account(factories.make_customer(), "EUR", 1_000)
    customer = factories.make_customer()
    return debit, factories.make_account(customer, "EUR"), customer


def _write(
    admin: User, debit: Account, credit: Account, follow_up: FollowUp, *, reserve: bool
) -> tuple[int, int | None]:
    """Write 5.00 from ``debit`` to ``credit`` with one audit event and ``follow_up``, its
    id reserved first when ``reserve``; (transaction id, reserved id)."""
    with write_transaction() as s:
        conn = s.connection()
        reserved = conn.scalar(sa.select(RESERVE_TRANSACTION_ID)) if reserve else None
        tx_id = write_movement(conn, _movement(admin, debit, credit, reserved), follow_up=follow_up)
        audit.record_all(s, [audit.Event(admin.id, "test.moved", "transaction", tx_id)])
    return tx_id, reserved


@pytest.mark.parametrize("reserve", [False, True], ids=["inserted", "reserved"])
def test_a_movement_writes_its_transaction_balances_events_and_follow_up(
    app: Flask, admin: User, reserve: bool
) -> None:
    debit, credit, customer = _funded_pair()
    rename = FollowUp(_RENAME, {"renamed_id": customer.id, "new_name": "Renamed"})
    tx_id, reserved = _write(admin, debit, credit, rename, reserve=reserve)
    assert reserved is None or tx_id == reserved
    assert [balance(debit), balance(credit)] == [500, 500]
    renamed = db.session.scalar(sa.select(Customer.full_name).where(Customer.id == customer.id))
    assert renamed == "Renamed"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "test.moved"))
    assert event is not None
    assert (event.object_id, event.actor_id) == (str(tx_id), admin.id)
    assert event.created_at is not None
    assert verify_ledger() == []


@pytest.mark.parametrize("reserve", [False, True], ids=["inserted", "reserved"])
def test_a_failing_follow_up_rolls_the_whole_movement_back(
    app: Flask, admin: User, reserve: bool
) -> None:
    debit, credit, customer = _funded_pair()
    before = (count_rows(Transaction), count_rows(AuditEvent))
    unnamed = FollowUp(_RENAME, {"renamed_id": customer.id, "new_name": None})  # NOT NULL

    with pytest.raises(sa.exc.IntegrityError):
        _write(admin, debit, credit, unnamed, reserve=reserve)
    assert (count_rows(Transaction), count_rows(AuditEvent)) == before
    assert [balance(debit), balance(credit)] == [1_000, 0]
    assert verify_ledger() == []


def test_a_follow_up_parameter_named_like_a_column_is_refused() -> None:
    """PostgreSQL's one statement: SQLAlchemy would add a parameter named like a column of
    a table it writes (here accounts.customer_id) to that table's SET."""
    clashing = sa.update(Customer).where(Customer.id == sa.bindparam("customer_id"))
    with pytest.raises(ValueError, match=r"\['customer_id'\]"):
        _one_statement((clashing.values(updated_at=sa.func.now()),), inserts=True)
    assert _one_statement((_RENAME,), inserts=True) is not None
