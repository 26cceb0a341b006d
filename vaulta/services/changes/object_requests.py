"""The pending change requests about one object (a customer, an account, a staff login), for
the pages that show it: what has been asked and awaits approval (a read: Core rows)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from vaulta.models import ChangeRequest, utcnow
from vaulta.models.change_request import CR_PENDING
from vaulta.services.unit_of_work import session

_CR = ChangeRequest.__table__


def _pending(about: sa.ColumnElement[bool]) -> Sequence[sa.Row]:
    query = (
        sa.select(_CR.c.id, _CR.c.action, _CR.c.summary)
        .where(about, _CR.c.status == CR_PENDING, _CR.c.expires_at > utcnow())
        .order_by(_CR.c.id)
    )
    return session().execute(query).all()


def pending_for(target_type: str, target_id: int) -> Sequence[sa.Row]:
    """Pending, unexpired requests about the object, oldest first: id, action, summary."""
    return _pending(sa.and_(_CR.c.target_type == target_type, _CR.c.target_id == target_id))


def pending_for_customer(customer_id: int) -> Sequence[sa.Row]:
    """Pending requests about the customer: their details and status, and accounts asked
    to be opened for them."""
    return _pending(
        sa.or_(
            sa.and_(_CR.c.target_type == "customer", _CR.c.target_id == customer_id),
            sa.and_(_CR.c.action == "account.open", _CR.c.customer_id == customer_id),
        )
    )
