"""Helpers the change-request tests share: submitting ledger requests, approving with
the mailed step-up code, reading requests and events."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tests import factories
from tests.helpers import mailed_code
from vaulta.extensions import db
from vaulta.models import Account, ChangeRequest, OutboxEvent, User
from vaulta.services.changes import change_requests
from vaulta.services.changes.change_requests import StepUpRequired

CODE_SUBJECT = "VAULTA approval code for change request #{id}"


def funded_account(balance_minor: int = 0, currency: str = "EUR") -> Account:
    """A new customer's account holding ``balance_minor``."""
    return factories.make_account(factories.make_customer(), currency, balance_minor)


def deposit(
    teller: User, account: Account, amount_minor: int, description: str = "Cash in", **extra: Any
) -> ChangeRequest:
    return change_requests.submit(
        "ledger.deposit",
        {"account_id": account.id, "amount_minor": amount_minor, "description": description},
        actor=teller,
        **extra,
    )


def withdrawal(teller: User, account: Account, amount_minor: int) -> ChangeRequest:
    return change_requests.submit(
        "ledger.withdrawal",
        {"account_id": account.id, "amount_minor": amount_minor, "description": "Cash out"},
        actor=teller,
    )


def approve_with_code(request_id: int, approver: User) -> ChangeRequest:
    """Approve; when a step-up code is asked for, approve again with the mailed code."""
    try:
        return change_requests.approve(request_id, actor=approver)
    except StepUpRequired:
        code = mailed_code(approver.email, CODE_SUBJECT.format(id=request_id))
        return change_requests.approve(request_id, actor=approver, step_up_code=code)


def reload(request_id: int) -> ChangeRequest:
    db.session.rollback()
    request = db.session.get(ChangeRequest, request_id, populate_existing=True)
    assert request is not None
    return request


def event_types(request_id: int) -> list[str]:
    """The outbox events about the request, oldest first."""
    rows = db.session.execute(
        sa.select(OutboxEvent.type, OutboxEvent.payload).order_by(OutboxEvent.id)
    ).all()
    return [
        row.type
        for row in rows
        if row.type.startswith("change_request.") and row.payload["id"] == request_id
    ]
