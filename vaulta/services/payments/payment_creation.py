"""Making a payment, one way for the web form and the API: check the order, then add it.

``check_order`` turns what the customer sent (a ``PaymentOrder``) into a ``CheckedPayment``:
their own active account, a VAULTA account or an external beneficiary (IBAN and BIC by
schwifty), the amount within LEDGER_MAX_AMOUNT_MINOR in the account's currency, a clean
reference. It reads but never writes, so a refused order leaves nothing behind.
``add_payment`` builds the Payment and its audit event inside the caller's transaction.

The two ways in differ only in what surrounds these two steps:

- the web form (vaulta/services/payments/payment_requests.py ``create_request``): the payment
  awaits the passcode mailed to the customer; the form's token makes a double submit return
  the first payment;
- the API (vaulta/services/payments/api_payments.py): the ``payments:write`` key is the
  credential, so the payment is confirmed at once; its Idempotency-Key stores the response.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy.orm import Session

from vaulta.models import Account, Payment, User
from vaulta.models.payment import PAYMENT_AWAITING, PAYMENT_PENDING
from vaulta.services import audit, events
from vaulta.services.errors import InvalidInput
from vaulta.services.ledger import lock_accounts
from vaulta.services.payments import (
    daily_limit,
    iban,
    payment_changes,
    payment_fields,
    payment_holds,
)


@dataclass(frozen=True)
class PaymentOrder:
    """What a customer asks to pay, as sent. The amount is either typed text in the
    account's currency (``amount``, the web form) or minor units with the currency they
    are in (``amount_minor`` and ``currency``, the API)."""

    from_account: str
    reference: str
    amount: str = ""
    amount_minor: int | None = None
    currency: str | None = None
    to_account: str = ""
    beneficiary_name: str = ""
    beneficiary_iban: str = ""
    beneficiary_bic: str = ""


@dataclass(frozen=True)
class CheckedPayment:
    """An order that passed every check: ready for ``add_payment``."""

    source: Account
    target: Account | None
    beneficiary_name: str | None
    beneficiary_iban: str | None
    beneficiary_bic: str | None
    amount_minor: int
    reference: str


def expiry_from(now: datetime) -> datetime:
    return now + timedelta(days=current_app.config["PAYMENT_EXPIRY_DAYS"])


def _amount(order: PaymentOrder, source: Account) -> int:
    if order.amount_minor is None:
        return payment_fields.payment_amount(order.amount, source.currency)
    if order.currency is not None and order.currency != source.currency:
        raise InvalidInput(
            f"Account {source.number} holds {source.currency}; send the amount in it.",
            field="currency",
        )
    return payment_fields.payment_amount_minor(order.amount_minor, source.currency)


def check_order(
    actor: User, order: PaymentOrder, *, customer_id: int | None = None
) -> CheckedPayment:
    """The order against the database and the rules; InvalidInput names the order's field.

    ``customer_id``: the customer whose account pays when staff enter the order on their
    behalf (the caller checked ``payments.request``); by default the actor's own customer.
    """
    owner = customer_id if customer_id is not None else actor.customer_id
    if owner is None:
        raise InvalidInput("Only customers request payments.")
    return check_order_for(owner, order)


def check_order_for(customer_id: int, order: PaymentOrder) -> CheckedPayment:
    """``check_order`` for a customer's account when someone else enters the order (a
    payment file uploaded by staff, vaulta/services/payments/batch_lines.py): the same
    rules, the customer named by the caller, who has checked the right to act for them."""
    source = payment_fields.own_account(customer_id, order.from_account)
    external = bool(order.beneficiary_iban.strip() or order.beneficiary_name.strip())
    if external and order.to_account.strip():
        raise InvalidInput(
            "Pay either a VAULTA account or an external beneficiary, not both.",
            field="to_account",
        )
    target: Account | None = None
    name = normalised_iban = bic = None
    if external:
        name = payment_fields.clean_text(
            order.beneficiary_name,
            field="beneficiary_name",
            label="the beneficiary's name",
            maximum=payment_fields.NAME_MAX,
        )
        normalised_iban = iban.validate(order.beneficiary_iban)
        bic = iban.validate_bic(order.beneficiary_bic)
    elif order.beneficiary_bic.strip():
        raise InvalidInput(
            "A BIC goes with an external beneficiary's IBAN.", field="beneficiary_bic"
        )
    else:
        target = payment_fields.beneficiary_account(order.to_account, source)
    amount_minor = _amount(order, source)
    reference = payment_fields.clean_text(
        order.reference,
        field="reference",
        label="a reference",
        maximum=payment_fields.REFERENCE_MAX,
    )
    return CheckedPayment(source, target, name, normalised_iban, bic, amount_minor, reference)


def add_payment(
    s: Session,
    actor: User,
    checked: CheckedPayment,
    *,
    now: datetime,
    confirmed: bool,
    action: str,
    idempotency_key: str | None = None,
    audit_details: dict[str, object] | None = None,
    decided_by_request: int | None = None,
) -> Payment:
    """The Payment and its audit event ``action``, in the caller's transaction ``s``.

    ``confirmed``: straight into the approval queue (``pending_approval``), decided as its
    own change request; otherwise it awaits the requester's passcode.
    ``decided_by_request``: the change request already approved that this payment carries
    out (a payment file's batch): it is linked to that one and opens none of its own.
    A payment above the customer's daily outgoing limit is refused (``DailyLimitExceeded``).
    """
    held = confirmed and decided_by_request is None  # in the queue: decided as a request
    # Lock the paying account before the payment row's foreign key takes its share lock:
    # concurrent payments from one account would otherwise each hold that share lock and
    # wait for the other's to upgrade it (a deadlock). It also serialises the daily limit.
    locked = lock_accounts(s, checked.source.id)[checked.source.id] if held else None
    daily_limit.check(
        s,
        checked.source.customer_id,
        checked.source.currency,
        checked.amount_minor,
        now=now,
    )
    payment = Payment(
        from_account_id=checked.source.id,
        beneficiary_account_id=checked.target.id if checked.target else None,
        beneficiary_name=checked.beneficiary_name,
        beneficiary_iban=checked.beneficiary_iban,
        beneficiary_bic=checked.beneficiary_bic,
        amount_minor=checked.amount_minor,
        currency=checked.source.currency,
        reference=checked.reference,
        status=PAYMENT_PENDING if confirmed else PAYMENT_AWAITING,
        requested_by_id=actor.id,
        confirmed_at=now if confirmed else None,
        expires_at=expiry_from(now),
        idempotency_key=idempotency_key,
        change_request_id=decided_by_request,
    )
    s.add(payment)
    s.flush()
    audit.record(
        s,
        actor=actor,
        action=action,
        object_type="payment",
        object_id=payment.id,
        details={
            "amount_minor": checked.amount_minor,
            "currency": checked.source.currency,
            "from": checked.source.number,
            "to": checked.target.number if checked.target else checked.beneficiary_iban,
            **({"bic": checked.beneficiary_bic} if checked.beneficiary_bic else {}),
            **(audit_details or {}),
        },
    )
    events.emit(s, "payment.created", events.PaymentData.model_validate(payment))
    if held:
        payment_holds.hold_for(
            s,
            payment.id,
            checked.source.id,
            checked.amount_minor,
            expires_at=payment.expires_at,
            actor_id=actor.id,
            locked=locked,
        )
        payment_changes.open_request(s, payment.id, now=now)
    return payment
