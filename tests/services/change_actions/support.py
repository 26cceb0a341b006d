"""Helpers of the action tests: submit as a maker, approve as others, read events."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from vaulta.extensions import db
from vaulta.models import ChangeRequest, OutboxEvent, User
from vaulta.services.changes import change_requests


def ask(maker: User, action: str, **params: Any) -> ChangeRequest:
    return change_requests.submit(action, params, actor=maker)


def decide(request: ChangeRequest, *approvers: User) -> ChangeRequest:
    """Approve each level in turn; the request as it now is."""
    for approver in approvers:
        change_requests.approve(request.id, actor=approver)
    db.session.rollback()
    fresh = db.session.get(ChangeRequest, request.id, populate_existing=True)
    assert fresh is not None
    return fresh


def business_events() -> list[str]:
    """The outbox's event types other than the change requests' own, oldest first."""
    types = db.session.scalars(sa.select(OutboxEvent.type).order_by(OutboxEvent.id))
    return [t for t in types if not t.startswith("change_request.")]
