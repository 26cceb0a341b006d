"""A small world for walking every route: one customer owns an account, a payment and an
API key; another customer owns nothing of theirs; one staff login per role (admin, approver,
teller, auditor) works in the back office, where the teller has asked for a deposit (a
pending change request) and uploaded a payment file for the customer, who uploaded one too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from vaulta.extensions import db
from vaulta.models import Account, Payment, Transaction, User, WebhookDelivery
from vaulta.models.base import clock_set_to, utcnow
from vaulta.models.export_job import EXPORT_TRANSACTIONS
from vaulta.models.payment import PAYMENT_PENDING
from vaulta.models.user import STAFF_ROLES
from vaulta.ops.queue import EXTENSION
from vaulta.services import standing_orders
from vaulta.services.changes import change_requests
from vaulta.services.exports import export_jobs
from vaulta.services.identity import api_keys
from vaulta.services.ledger import holds
from vaulta.services.payments.payment_creation import PaymentOrder
from vaulta.services.webhooks import dispatch, endpoints


@dataclass
class World:
    admin: User
    approver: User
    teller: User
    auditor: User
    customer: User
    other: User
    account: Account
    payment_id: int
    transaction_id: int
    key_id: int
    past_month: str  # YYYY-MM: a complete month of the account (it has a statement)
    webhook_endpoint_id: str
    webhook_delivery_id: int
    export_job_id: int  # a finished background export of the auditor's
    request_id: int  # a pending change request made by the teller
    batch_id: int  # a pending payment file's batch (payments.batch) made by the teller
    customer_batch_id: int  # a pending payment file's batch the customer uploaded
    standing_order_id: int  # the customer's, paying the other customer monthly
    hold_id: int  # an active hold on the customer's account

    def user(self, role: str) -> User | None:
        return {
            "anonymous": None,
            "customer": self.customer,
            "other": self.other,
            "admin": self.admin,
            "approver": self.approver,
            "teller": self.teller,
            "auditor": self.auditor,
        }[role]


@pytest.fixture
def world(app: Flask, tmp_path: Path) -> World:
    admin = factories.make_admin("walk-admin@example.test")
    staff = [factories.make_staff(f"walk-{r}@example.test", r) for r in STAFF_ROLES[1:]]
    customer = factories.make_customer_login("walk-owner@example.test")
    other = factories.make_customer_login("walk-other@example.test")
    opened = datetime.combine(utcnow().date().replace(day=1) - timedelta(days=40), time(9), UTC)
    with clock_set_to(opened):
        account = factories.make_account(factories.customer_of(customer), "EUR", 50_000)
    target = factories.make_account(factories.customer_of(other), "EUR")
    payment = Payment(
        from_account_id=account.id,
        beneficiary_account_id=target.id,
        amount_minor=100,
        currency="EUR",
        reference="Walk",
        status=PAYMENT_PENDING,
        requested_by_id=customer.id,
        expires_at=utcnow().replace(year=utcnow().year + 1),
    )
    db.session.add(payment)
    db.session.commit()
    tx_id = db.session.scalar(sa.select(sa.func.max(Transaction.id)))
    key = api_keys.create(customer, "walk", ["read"])
    past_month = (utcnow().date().replace(day=1) - timedelta(days=1)).isoformat()[:7]
    hook = endpoints.create_endpoint(actor=admin, url="http://127.0.0.1:9/h", event_types=["*"])
    dispatch.fan_out()
    delivery_id = db.session.scalar(sa.select(sa.func.max(WebhookDelivery.id)))
    assert delivery_id is not None
    app.config["EXPORT_DIR"] = str(tmp_path / "exports")
    export_id = export_jobs.request_export(
        EXPORT_TRANSACTIONS, "csv", {"currency": "EUR"}, actor=staff[-1]
    )
    app.extensions[EXTENSION].run_export(export_id)
    teller = staff[STAFF_ROLES[1:].index("teller")]
    made = change_requests.submit(
        "ledger.deposit",
        {"account_id": account.id, "amount_minor": 1_000, "description": "Walk"},
        actor=teller,
    )
    batch = change_requests.submit(
        "payments.batch",
        {
            "account_id": account.id,
            "file_name": "walk.csv",
            "content": "beneficiary_name,beneficiary_iban,amount,currency,remittance\n"
            "Walk,DE89370400440532013000,1.00,EUR,Walk\n",
        },
        actor=teller,
    )
    customer_batch = change_requests.submit(
        "payments.batch",
        {
            "account_id": account.id,
            "file_name": "own.csv",
            "content": "beneficiary_name,beneficiary_iban,amount,currency,remittance\n"
            "Own,DE89370400440532013000,2.00,EUR,Own\n",
        },
        actor=customer,
    )
    standing_order = standing_orders.create(
        actor=customer,
        order=PaymentOrder(
            from_account=account.number,
            to_account=target.number,
            amount_minor=500,
            currency="EUR",
            reference="Walk",
        ),
        plan=standing_orders.Schedule("monthly", utcnow().date()),
    )
    return World(
        admin,
        *staff,
        customer,
        other,
        account,
        payment.id,
        tx_id,
        key.key.id,
        past_month,
        hook.endpoint.public_id,
        delivery_id,
        export_id,
        made.id,
        batch.id,
        customer_batch.id,
        standing_order.id,
        holds.place(
            account.id, 100, reason="Walk", expires_at=utcnow() + timedelta(days=1), actor=admin
        ),
    )
