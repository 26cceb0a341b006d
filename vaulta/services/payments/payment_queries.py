"""Reading payments (queries): one payment with its parties, a customer's payments, the
accounts a customer may pay from. A payment past its time is marked expired first
(``expiry``), so a page never shows it as still open."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from vaulta.models import Account, Payment, User
from vaulta.models.account import MAY_SEND
from vaulta.models.payment import PAYMENT_STATUSES
from vaulta.services.errors import InvalidInput, NotFound
from vaulta.services.payments import expiry
from vaulta.services.unit_of_work import session


def with_parties() -> list[object]:
    return [
        joinedload(Payment.from_account).joinedload(Account.customer),
        joinedload(Payment.beneficiary_account).joinedload(Account.customer),
        joinedload(Payment.approver),
        joinedload(Payment.decided_by),
        joinedload(Payment.transaction),
    ]


def load(payment_id: int) -> Payment:
    payment = session().scalar(
        sa.select(Payment)
        .where(Payment.id == payment_id)
        .options(*with_parties())
        .execution_options(populate_existing=True)
    )
    if payment is None:
        raise NotFound("No such payment.")
    return payment


def get(payment_id: int) -> Payment:
    """Any payment (admins), expired first if its time has passed."""
    expiry.expire_due(payment_id=payment_id)
    return load(payment_id)


def get_for_customer(payment_id: int, user: User) -> Payment:
    """A payment from one of the user's customer's accounts; otherwise NotFound."""
    payment = get(payment_id)
    if user.customer_id is None or payment.from_account.customer_id != user.customer_id:
        raise NotFound("No such payment.")
    return payment


def list_for_customer(customer_id: int, *, limit: int = 100) -> list[Payment]:
    expiry.expire_due()
    return list(
        session()
        .scalars(
            sa.select(Payment)
            .join(Account, Account.id == Payment.from_account_id)
            .where(Account.customer_id == customer_id)
            .options(*with_parties())
            .order_by(Payment.id.desc())
            .limit(limit)
        )
        .unique()
    )


def active_accounts(customer_id: int) -> list[Account]:
    return list(
        session().scalars(
            sa.select(Account)
            .where(Account.customer_id == customer_id, Account.status.in_(MAY_SEND))
            .order_by(Account.id)
        )
    )


def page_for_customer(
    customer_id: int, *, status: str | None, before_id: int | None, limit: int
) -> tuple[list[Payment], int | None]:
    """The customer's payments newest first (keyset on id): (page, cursor id or None)."""
    if status is not None and status not in PAYMENT_STATUSES:
        raise InvalidInput(f"Unknown status {status!r}.", field="status")
    expiry.expire_due()
    query = (
        sa.select(Payment)
        .join(Account, Account.id == Payment.from_account_id)
        .where(Account.customer_id == customer_id)
        .options(joinedload(Payment.from_account), joinedload(Payment.beneficiary_account))
        .order_by(Payment.id.desc())
        .limit(limit + 1)
    )
    if status is not None:
        query = query.where(Payment.status == status)
    if before_id is not None:
        query = query.where(Payment.id < before_id)
    rows = list(session().scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, rows[-1].id if more and rows else None
