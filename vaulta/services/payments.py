"""Customers' payment requests: request, confirm with a one-time passcode, cancel, expire.

A payment is ``awaiting_confirmation`` until its requester enters the passcode mailed to
them, then ``pending_approval`` until an admin decides (vaulta/services/approvals.py) or it
expires. State changes are conditional updates from the expected status, so two requests
racing on one payment cannot both win.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, joinedload

from vaulta.models import Account, Payment, User, utcnow
from vaulta.models.account import ACCOUNT_ACTIVE
from vaulta.models.payment import (
    PAYMENT_AWAITING,
    PAYMENT_CANCELLED,
    PAYMENT_EXPIRED,
    PAYMENT_OPEN_STATUSES,
    PAYMENT_PENDING,
)
from vaulta.money import format_amount
from vaulta.services import audit, iban, mail, otp
from vaulta.services.db import session, write_transaction
from vaulta.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from vaulta.services.maintenance import UnderMaintenance
from vaulta.services.payment_fields import (
    NAME_MAX,
    REFERENCE_MAX,
    beneficiary_account,
    clean_text,
    own_account,
    payment_amount,
)


def expiry_from(now: datetime) -> datetime:
    return now + timedelta(days=current_app.config["PAYMENT_EXPIRY_DAYS"])


# --- Requesting and confirming ---


def _existing(idempotency_key: str) -> Payment | None:
    return session().scalar(sa.select(Payment).where(Payment.idempotency_key == idempotency_key))


def _same_requester(payment: Payment, actor: User) -> Payment:
    if payment.requested_by_id != actor.id:
        raise Conflict("This form was already used. Reload the page and try again.")
    return payment


def create_request(
    *,
    actor: User,
    from_account: str,
    amount: str,
    reference: str,
    to_account: str = "",
    beneficiary_name: str = "",
    beneficiary_iban: str = "",
    beneficiary_bic: str = "",
    idempotency_key: str = "",
) -> tuple[Payment, str | None]:
    """Create the request and its confirmation code: (payment, code to mail).

    The same ``idempotency_key`` again returns the first payment and no new code.
    """
    if actor.customer_id is None:
        raise InvalidInput("Only customers request payments here.")
    key = (idempotency_key or "").strip()[:64]
    if key and (existing := _existing(key)) is not None:
        return _same_requester(existing, actor), None
    source = own_account(actor.customer_id, from_account)
    external = bool((beneficiary_iban or "").strip() or (beneficiary_name or "").strip())
    if external and (to_account or "").strip():
        raise InvalidInput(
            "Pay either a VAULTA account or an external beneficiary, not both.",
            field="to_account",
        )
    target: Account | None = None
    name = normalised_iban = bic = None
    if external:
        name = clean_text(
            beneficiary_name, field="beneficiary_name", label="a name", maximum=NAME_MAX
        )
        normalised_iban = iban.validate(beneficiary_iban)
        bic = iban.validate_bic(beneficiary_bic)
    elif (beneficiary_bic or "").strip():
        raise InvalidInput(
            "A BIC goes with an external beneficiary's IBAN.", field="beneficiary_bic"
        )
    else:
        target = beneficiary_account(to_account, source)
    amount_minor = payment_amount(amount, source.currency)
    reference = clean_text(reference, field="reference", label="a reference", maximum=REFERENCE_MAX)
    now = utcnow()
    try:
        with write_transaction() as s:
            payment = Payment(
                from_account_id=source.id,
                beneficiary_account_id=target.id if target else None,
                beneficiary_name=name,
                beneficiary_iban=normalised_iban,
                beneficiary_bic=bic,
                amount_minor=amount_minor,
                currency=source.currency,
                reference=reference,
                status=PAYMENT_AWAITING,
                requested_by_id=actor.id,
                expires_at=expiry_from(now),
                idempotency_key=key or None,
            )
            s.add(payment)
            s.flush()
            code = otp.issue_in(s, actor, otp.PAYMENT_CONFIRM, str(payment.id), now=now)
            audit.record(
                s,
                actor=actor,
                action="payment.request",
                object_type="payment",
                object_id=payment.id,
                details={
                    "amount_minor": amount_minor,
                    "currency": source.currency,
                    "from": source.number,
                    "to": target.number if target else normalised_iban,
                    **({"bic": bic} if bic else {}),
                },
            )
    except sa.exc.IntegrityError:
        existing = _existing(key) if key else None
        if existing is None:
            raise
        return _same_requester(existing, actor), None
    return payment, code


def mail_confirmation_code(user: User, payment: Payment, code: str) -> None:
    amount = format_amount(payment.amount_minor, payment.currency)
    mail.send(
        user.email,
        f"Your VAULTA code for payment #{payment.id}",
        f"Your code to confirm payment #{payment.id} of {amount} is {code}.\n"
        f"It is valid for {current_app.config['OTP_TTL_SECONDS'] // 60} minutes. "
        "If you did not ask for this payment, do not share the code.",
    )


def request_payment(*, actor: User, **fields: str) -> Payment:
    """Create a payment request and mail its confirmation code to the requester."""
    payment, code = create_request(actor=actor, **fields)
    if code is not None:
        mail_confirmation_code(actor, payment, code)
    return payment


def resend_code(payment_id: int, *, actor: User) -> Payment:
    """Mail a new confirmation code (the old one stops working); audited."""
    payment = get_for_customer(payment_id, actor)
    if payment.status != PAYMENT_AWAITING:
        raise Conflict("This payment does not need a code any more.")
    with write_transaction() as s:
        code = otp.issue_in(s, actor, otp.PAYMENT_CONFIRM, str(payment.id))
        audit.record(s, actor=actor, action="payment.code_resent", **_object(payment))
    mail_confirmation_code(actor, payment, code)
    return payment


def confirm(payment_id: int, *, actor: User, code: str) -> Payment:
    """Check the requester's code and put the payment in the approval queue."""
    payment = get_for_customer(payment_id, actor)
    if payment.status != PAYMENT_AWAITING:
        raise Conflict(f"This payment is already {payment.status.replace('_', ' ')}.")
    if payment.requested_by_id != actor.id:
        raise Forbidden("Only the person who requested this payment can confirm it.")
    otp.verify(actor, otp.PAYMENT_CONFIRM, str(payment.id), code)
    now = utcnow()
    with write_transaction() as s:
        _transition(
            s,
            payment.id,
            PAYMENT_AWAITING,
            status=PAYMENT_PENDING,
            confirmed_at=now,
            expires_at=expiry_from(now),
        )
        audit.record(s, actor=actor, action="payment.confirm", **_object(payment))
    return _reload(payment.id)


def cancel(payment_id: int, *, actor: User) -> Payment:
    """The customer withdraws a request that nobody has decided yet."""
    payment = get_for_customer(payment_id, actor)
    now = utcnow()
    with write_transaction() as s:
        moved = s.execute(
            sa.update(Payment)
            .where(Payment.id == payment.id, Payment.status.in_(PAYMENT_OPEN_STATUSES))
            .values(status=PAYMENT_CANCELLED, decided_by_id=actor.id, decided_at=now)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:
            raise Conflict("This payment can no longer be cancelled: it was already decided.")
        audit.record(s, actor=actor, action="payment.cancel", **_object(payment))
    return _reload(payment.id)


def _transition(s: Session, payment_id: int, expected: str, **values: object) -> None:
    moved = s.execute(
        sa.update(Payment)
        .where(Payment.id == payment_id, Payment.status == expected)
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        raise Conflict("This payment was already decided.")


def _object(payment: Payment) -> dict[str, object]:
    return {"object_type": "payment", "object_id": payment.id}


# --- Expiry ---


def expire_due(*, now: datetime | None = None, payment_id: int | None = None) -> int:
    """Mark open payments whose time has passed as expired; return how many.

    The check runs on every queue view: one indexed statement (status, expires_at), built
    once per shape, that usually finds nothing."""
    now = now or utcnow()
    params: dict[str, object] = {"now": now}
    if payment_id is not None:
        params["payment_id"] = payment_id
    ids = list(session().scalars(_due_query(payment_id is not None), params))
    if not ids:
        return 0
    try:
        return _expire(ids, now)
    except UnderMaintenance:  # pages stay readable; the expiry is recorded after the window
        return 0


def _expire(ids: list[int], now: datetime) -> int:
    expired = 0
    with write_transaction() as s:
        for pid in ids:
            moved = s.execute(
                sa.update(Payment)
                .where(Payment.id == pid, Payment.status.in_(PAYMENT_OPEN_STATUSES))
                .values(status=PAYMENT_EXPIRED, decided_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if moved.rowcount == 1:
                expired += 1
                audit.record(
                    s, actor=None, action="payment.expire", object_type="payment", object_id=pid
                )
    return expired


@lru_cache(maxsize=2)
def _due_query(one: bool) -> sa.Select[tuple[int]]:
    """``expire_due``'s statement (bound parameters: now, and payment_id when ``one``): Core
    columns (no ORM result layer), the open statuses as plain parameters (not an expanding
    IN list rendered again on every run)."""
    payment = Payment.__table__.c
    due = sa.select(payment.id).where(
        payment.status.in_([sa.literal(s) for s in PAYMENT_OPEN_STATUSES]),
        payment.expires_at <= sa.bindparam("now"),
    )
    return due.where(payment.id == sa.bindparam("payment_id")) if one else due


# --- Reading ---


def _with_parties() -> list[object]:
    return [
        joinedload(Payment.from_account).joinedload(Account.customer),
        joinedload(Payment.beneficiary_account).joinedload(Account.customer),
        joinedload(Payment.approver),
        joinedload(Payment.decided_by),
        joinedload(Payment.transaction),
    ]


def _reload(payment_id: int) -> Payment:
    payment = session().scalar(
        sa.select(Payment)
        .where(Payment.id == payment_id)
        .options(*_with_parties())
        .execution_options(populate_existing=True)
    )
    if payment is None:
        raise NotFound("No such payment.")
    return payment


def get(payment_id: int) -> Payment:
    """Any payment (admins), expired first if its time has passed."""
    expire_due(payment_id=payment_id)
    return _reload(payment_id)


def get_for_customer(payment_id: int, user: User) -> Payment:
    """A payment from one of the user's customer's accounts; otherwise NotFound."""
    payment = get(payment_id)
    if user.customer_id is None or payment.from_account.customer_id != user.customer_id:
        raise NotFound("No such payment.")
    return payment


def list_for_customer(customer_id: int, *, limit: int = 100) -> list[Payment]:
    expire_due()
    return list(
        session()
        .scalars(
            sa.select(Payment)
            .join(Account, Account.id == Payment.from_account_id)
            .where(Account.customer_id == customer_id)
            .options(*_with_parties())
            .order_by(Payment.id.desc())
            .limit(limit)
        )
        .unique()
    )


def active_accounts(customer_id: int) -> list[Account]:
    return list(
        session().scalars(
            sa.select(Account)
            .where(Account.customer_id == customer_id, Account.status == ACCOUNT_ACTIVE)
            .order_by(Account.id)
        )
    )
