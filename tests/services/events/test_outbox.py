"""The outbox: one event per committed change, written in its transaction; none for a
change that rolled back (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.services.payments.factories import make_payment
from vaulta.extensions import db
from vaulta.models import Account, OutboxEvent, User, utcnow
from vaulta.services import events, ledger
from vaulta.services.banking import accounts, customers
from vaulta.services.errors import InsufficientFunds
from vaulta.services.events.payloads import EVENT_TYPES, schema_components
from vaulta.services.payments import approvals, bulk_decisions, expiry, payment_requests
from vaulta.services.unit_of_work import write_transaction


def _events(since: int = 0) -> list[OutboxEvent]:
    db.session.rollback()
    return list(
        db.session.scalars(
            sa.select(OutboxEvent).where(OutboxEvent.id > since).order_by(OutboxEvent.id)
        )
    )


def _last_id() -> int:
    return db.session.scalar(sa.select(sa.func.max(OutboxEvent.id))) or 0


def _types(since: int) -> list[str]:
    return [e.type for e in _events(since)]


def test_customer_and_account_changes_emit_their_events(app: Flask, admin: User) -> None:
    start = _last_id()
    customer = customers.create_customer(full_name="Ada Lovelace", actor=admin)
    customers.update_customer(
        customer.id,
        full_name="Ada King",
        email="ada@example.test",
        phone=None,
        address=None,
        actor=admin,
    )
    account = accounts.open_account(customer, "EUR", actor=admin)
    accounts.freeze_account(account.id, actor=admin)
    accounts.unfreeze_account(account.id, actor=admin)
    accounts.close_account(account.id, actor=admin)
    found = _events(start)
    assert [e.type for e in found] == [
        "customer.created",
        "customer.updated",
        "account.opened",
        "account.frozen",
        "account.unfrozen",
        "account.closed",
    ]
    assert found[0].payload == {
        "id": customer.id,
        "customer_number": customer.customer_number,
        "status": "active",
        "changed": [],
    }
    assert found[1].payload["changed"] == ["email", "full_name"]
    assert found[2].payload | {"status": "x"} == {
        "id": account.id,
        "number": account.number,
        "customer_id": customer.id,
        "currency": "EUR",
        "status": "x",
    }
    assert [e.payload["status"] for e in found[3:]] == ["frozen", "active", "closed"]
    assert all(e.public_id.startswith("evt_") and len(e.public_id) == 36 for e in found)
    assert len({e.public_id for e in found}) == len(found)
    assert all(e.dispatched_at is None for e in found)


def test_postings_emit_transaction_posted(app: Flask, admin: User) -> None:
    customer = factories.make_customer()
    a = factories.make_account(customer, "EUR")
    b = factories.make_account(customer, "EUR")
    start = _last_id()
    deposit = ledger.deposit(a, 5_000, actor=admin, description="Cash in")
    transfer = ledger.transfer(a, b, 1_250, actor=admin, description="Move")
    found = _events(start)
    assert [e.type for e in found] == ["transaction.posted", "transaction.posted"]
    assert found[1].payload == {
        "id": transfer.id,
        "kind": "transfer",
        "amount_minor": 1_250,
        "currency": "EUR",
        "debit_account": a.number,
        "credit_account": b.number,
        "description": "Move",
        "reference": None,
        "reverses_id": None,
    }
    assert found[0].payload["id"] == deposit.id


def test_a_refused_posting_leaves_no_event(app: Flask, admin: User) -> None:
    customer = factories.make_customer()
    a = factories.make_account(customer, "EUR")
    b = factories.make_account(customer, "EUR")
    start = _last_id()
    with pytest.raises(InsufficientFunds):
        ledger.transfer(a, b, 1, actor=admin, description="Too much")
    assert _events(start) == []


def test_a_rolled_back_transaction_takes_its_events_with_it(app: Flask, admin: User) -> None:
    customer = factories.make_customer()
    start = _last_id()
    data = events.CustomerData.model_validate(customer)
    seen: list[int] = []

    def change_then_fail() -> None:
        with write_transaction() as s:
            events.emit(s, "customer.updated", data)
            seen.append(s.scalar(sa.select(sa.func.max(OutboxEvent.id))) or 0)
            raise RuntimeError("the change failed after its event was written")

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert seen[0] > start  # it was written, in the transaction that then rolled back
    assert _events(start) == []


def test_payment_lifecycle_events(
    app: Flask, customer_user: User, approver: User, source: Account, target: Account
) -> None:
    start = _last_id()
    executed = make_payment(customer_user, source, to=target, amount="3.00")
    rejected = make_payment(customer_user, source, to=target, amount="4.00")
    approvals.approve(executed.id, actor=approver)
    approvals.reject(rejected.id, actor=approver, reason="Looks wrong")
    everything = _events(start)
    holds = [e.type for e in everything if e.type.startswith("hold.")]
    assert holds == ["hold.placed", "hold.placed", "hold.captured", "hold.released"]
    everything = [e for e in everything if not e.type.startswith("hold.")]
    found = [e for e in everything if not e.type.startswith("change_request.")]
    # Each payment in the queue is a change request: created with it, decided with it.
    requests = [(e.type, e.payload["status"]) for e in everything if e not in found]
    assert requests == [
        ("change_request.created", "pending"),
        ("change_request.created", "pending"),
        ("change_request.decided", "approved"),
        ("change_request.decided", "rejected"),
    ]
    assert [e.type for e in found] == [
        "payment.created",
        "payment.created",
        "transaction.posted",
        "payment.executed",
        "payment.rejected",
    ]
    assert found[0].payload["status"] == "awaiting_confirmation"
    assert found[3].payload == {
        "id": executed.id,
        "status": "executed",
        "amount_minor": 300,
        "currency": "EUR",
        "reference": "Invoice 42",
        "transaction_id": found[2].payload["id"],
        "reason": None,
    }
    assert found[4].payload["reason"] == "Looks wrong"
    assert found[4].payload["status"] == "rejected"


def test_expiry_cancel_and_batch_events(
    app: Flask, customer_user: User, approver: User, source: Account, target: Account
) -> None:
    old = make_payment(customer_user, source, to=target)
    cancelled = make_payment(customer_user, source, to=target)
    batch = [make_payment(customer_user, source, to=target, amount="1.00") for _ in range(2)]
    start = _last_id()
    payment_requests.cancel(cancelled.id, actor=customer_user)
    assert expiry.expire_due(now=utcnow() + timedelta(days=30), payment_id=old.id) == 1
    bulk_decisions.decide_many([p.id for p in batch], actor=approver, action="approve")
    everything = _events(start)
    holds = [e.type for e in everything if e.type.startswith("hold.")]
    assert holds == ["hold.released", "hold.expired", "hold.captured", "hold.captured"]
    everything = [e for e in everything if not e.type.startswith("hold.")]
    found = [e for e in everything if not e.type.startswith("change_request.")]
    decided = [e.payload["decision"] for e in everything if e not in found]
    assert decided == ["cancel", "expire", "approve", "approve"]
    assert [e.type for e in found] == [
        "payment.cancelled",
        "payment.expired",
        "transaction.posted",
        "transaction.posted",
        "payment.executed",
        "payment.executed",
    ]
    assert [e.payload["id"] for e in found[4:]] == [p.id for p in batch]
    assert found[1].payload["status"] == "expired"


def test_emit_refuses_unknown_types_and_mismatched_data(app: Flask) -> None:
    data = events.AccountData(id=1, number="1", customer_id=None, currency="EUR", status="active")
    with pytest.raises(ValueError, match="unknown event type"):
        events.event_row("account.exploded", data)
    with pytest.raises(TypeError, match="takes PaymentData"):
        events.event_row("payment.created", data)


def test_every_payload_has_a_schema_component() -> None:
    components = schema_components()
    for model in EVENT_TYPES.values():
        assert components[model.__name__]["type"] == "object"
    body = components["WebhookMessage"]
    assert body["required"] == ["type", "timestamp", "data"]
    assert set(body["properties"]["type"]["enum"]) == set(EVENT_TYPES)
