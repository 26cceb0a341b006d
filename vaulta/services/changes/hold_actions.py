"""Staff's hold actions, through change requests: ``ledger.hold.place``,
``ledger.hold.capture``, ``ledger.hold.release`` (vaulta/services/ledger/holds.py does the
work inside the deciding write transaction).

Parameters (``params``):

- place: ``account_id`` (int), ``amount_minor`` (int > 0), ``reason`` (str),
  ``expires_at`` (ISO 8601 with its zone, in the future).
- capture: ``hold_id`` (int), optional ``amount_minor`` (int, 0 < amount <= held; default
  all of it). A money movement: the money policies apply.
- release: ``hold_id`` (int).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from vaulta.models import Account, ChangeRequest, Hold, User
from vaulta.models.account import KIND_CUSTOMER
from vaulta.models.hold import HOLD_ACTIVE
from vaulta.money import format_amount
from vaulta.services.banking.accounts import system_account
from vaulta.services.changes.actions import ActionSpec, Prepared, register
from vaulta.services.errors import (
    AccountNotAvailable,
    Conflict,
    InsufficientFunds,
    InvalidInput,
    NotFound,
)
from vaulta.services.ledger import holds

PLACE = "ledger.hold.place"
CAPTURE = "ledger.hold.capture"
RELEASE = "ledger.hold.release"


def _id(params: dict[str, Any], name: str) -> int:
    value = params.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InvalidInput(f"Give the {name.replace('_', ' ')}.", field=name)
    return value


def _expiry(params: dict[str, Any]) -> datetime:
    value = params.get("expires_at")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(
                "Give the expiry as an ISO 8601 date and time.", field="expires_at"
            ) from None
    if not isinstance(value, datetime):
        raise InvalidInput("Give the expiry.", field="expires_at")
    return holds.check_expiry(value)


def _account(s: Session, account_id: int) -> Account:
    account = s.get(Account, account_id, populate_existing=True)
    if account is None:
        raise NotFound("No such account.")
    if account.kind != KIND_CUSTOMER:
        raise InvalidInput("Holds are placed on customer accounts.", field="account")
    return account


def _hold(s: Session, hold_id: int) -> Hold:
    hold = s.get(Hold, hold_id, populate_existing=True)
    if hold is None:
        raise NotFound("No such hold.")
    if hold.status != HOLD_ACTIVE:
        raise Conflict(f"Hold #{hold.id} is already {hold.status}.")
    if hold.payment_id is not None:
        raise Conflict(f"Hold #{hold.id} is payment #{hold.payment_id}'s: it ends with it.")
    return hold


def _check_place(account: Account, amount: int) -> None:
    if account.status != "active":
        raise AccountNotAvailable(f"Account {account.number} is {account.status}.")
    if account.available_minor < amount:
        raise InsufficientFunds(
            f"Insufficient funds: the available balance of {account.number} is "
            f"{format_amount(account.available_minor, account.currency)}."
        )


def _prepare_place(s: Session, params: dict[str, Any]) -> Prepared:
    account = _account(s, _id(params, "account_id"))
    amount = holds.check_amount(params.get("amount_minor"))
    reason = holds.check_reason(params.get("reason"))
    expires_at = _expiry(params)
    _check_place(account, amount)
    shown = format_amount(amount, account.currency)
    return Prepared(
        target_type="account",
        target_id=account.id,
        customer_id=account.customer_id,
        account_kind=account.kind,
        before={"account": account.number, "held_minor": account.held_minor},
        after={"account": account.number, "held_minor": account.held_minor + amount},
        summary=f"Hold {shown} on {account.number} until {expires_at:%Y-%m-%d %H:%M} UTC",
        dedupe_key=f"{PLACE}:account:{account.id}:{amount}",
        params={
            "account_id": account.id,
            "amount_minor": amount,
            "reason": reason,
            "expires_at": expires_at.isoformat(),
        },
    )


def _recheck_place(s: Session, request: ChangeRequest) -> None:
    params = request.change["params"]
    _check_place(_account(s, params["account_id"]), params["amount_minor"])


def _execute_place(s: Session, request: ChangeRequest, _decider: User) -> dict[str, Any]:
    params = request.change["params"]
    hold_id = holds.place_in(
        s,
        params["account_id"],
        params["amount_minor"],
        reason=params["reason"],
        expires_at=datetime.fromisoformat(params["expires_at"]),
        actor_id=request.maker_id,
    )
    return {"hold_id": hold_id}


def _prepare_capture(s: Session, params: dict[str, Any]) -> Prepared:
    hold = _hold(s, _id(params, "hold_id"))
    amount = params.get("amount_minor")
    amount = hold.amount_minor if amount is None else holds.check_amount(amount)
    if amount > hold.amount_minor:
        raise InvalidInput("You cannot capture more than is held.", field="amount_minor")
    account = _account(s, hold.account_id)
    system_account(hold.currency)  # created now (its own transaction), not while deciding
    shown = format_amount(amount, hold.currency)
    return Prepared(
        target_type="hold",
        target_id=hold.id,
        customer_id=account.customer_id,
        amount_minor=amount,
        currency=hold.currency,
        account_kind=account.kind,
        before={"hold": hold.id, "status": hold.status, "amount_minor": hold.amount_minor},
        after={"hold": hold.id, "status": "captured", "captured_minor": amount},
        summary=f"Capture {shown} of hold #{hold.id} on {account.number}",
        dedupe_key=f"{CAPTURE}:hold:{hold.id}",
        params={"hold_id": hold.id, "amount_minor": amount},
    )


def _execute_capture(s: Session, request: ChangeRequest, _decider: User) -> dict[str, Any]:
    params = request.change["params"]
    amount, tx_id = holds.capture_in(
        s, params["hold_id"], params["amount_minor"], actor_id=request.maker_id
    )
    return {"hold_id": params["hold_id"], "captured_minor": amount, "transaction_id": tx_id}


def _prepare_release(s: Session, params: dict[str, Any]) -> Prepared:
    hold = _hold(s, _id(params, "hold_id"))
    account = _account(s, hold.account_id)
    shown = format_amount(hold.amount_minor, hold.currency)
    return Prepared(
        target_type="hold",
        target_id=hold.id,
        customer_id=account.customer_id,
        account_kind=account.kind,
        before={"hold": hold.id, "status": hold.status, "amount_minor": hold.amount_minor},
        after={"hold": hold.id, "status": "released"},
        summary=f"Release hold #{hold.id} of {shown} on {account.number}",
        dedupe_key=f"{RELEASE}:hold:{hold.id}",
        params={"hold_id": hold.id},
    )


def _execute_release(s: Session, request: ChangeRequest, _decider: User) -> dict[str, Any]:
    hold_id = request.change["params"]["hold_id"]
    return {
        "hold_id": hold_id,
        "released_minor": holds.release_in(s, hold_id, actor_id=request.maker_id),
    }


def _recheck_hold(s: Session, request: ChangeRequest) -> None:
    _hold(s, request.change["params"]["hold_id"])


register(
    ActionSpec(
        name=PLACE,
        maker_permission="ledger.hold.place.request",
        label="Hold",
        is_money=False,
        prepare=lambda s, _actor, params: _prepare_place(s, params),
        recheck=_recheck_place,
        execute=_execute_place,
    )
)
register(
    ActionSpec(
        name=CAPTURE,
        maker_permission="ledger.hold.capture.request",
        label="Hold capture",
        is_money=True,
        prepare=lambda s, _actor, params: _prepare_capture(s, params),
        recheck=_recheck_hold,
        execute=_execute_capture,
    )
)
register(
    ActionSpec(
        name=RELEASE,
        maker_permission="ledger.hold.release.request",
        label="Hold release",
        is_money=False,
        prepare=lambda s, _actor, params: _prepare_release(s, params),
        recheck=_recheck_hold,
        execute=_execute_release,
    )
)
