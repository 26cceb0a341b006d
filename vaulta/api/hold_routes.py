"""``/api/v1`` holds: an account's holds, and staff's hold requests.

- ``GET /accounts/{number}/holds``: a customer's key, their own account (another's is 404);
  a staff key with ``accounts.read``, any account.
- ``POST /accounts/{number}/holds`` (``{"amount_minor", "reason", "expires_at"}``),
  ``POST /holds/{id}/capture`` (``{"amount_minor"}`` optional: default all, at most what is
  held) and ``POST /holds/{id}/release``: change requests (vaulta/services/changes/
  hold_actions.py), **202** with the request while it awaits approval, 201 (a new hold) or
  200 when the policy in force let it execute at once.
"""

from __future__ import annotations

import re
from typing import Any

from flask import url_for

from vaulta.api import auth, bp
from vaulta.api.change_models import ChangeRequest
from vaulta.api.errors import ApiError
from vaulta.api.hold_models import CaptureRequest, HoldList, HoldRequest, ReleaseRequest
from vaulta.api.hold_models import Hold as HoldJson
from vaulta.api.models import ACCOUNT_NUMBER_PATTERN, ID_MAX
from vaulta.api.spec import operation
from vaulta.models import Account
from vaulta.services.banking import account_queries
from vaulta.services.changes import change_queries, change_requests, hold_actions
from vaulta.services.errors import NotFound
from vaulta.services.identity import api_keys, permissions
from vaulta.services.ledger import hold_queries

ACCOUNT_PATH = {"number": "Account number (10 digits)"}
HOLD_PATH = {"hold_id": "Hold id"}
ACCOUNT_NUMBER = re.compile(ACCOUNT_NUMBER_PATTERN)


def _account(number: str) -> Account:
    """The caller's own account (a customer), or any account (staff with accounts.read)."""
    if not ACCOUNT_NUMBER.fullmatch(number):
        raise NotFound("No such account.")
    user = auth.current_user()
    allowed = permissions.key_permissions(user, api_keys.scopes_of(auth.current_key()))
    if user.customer_id is not None and "own.accounts.read" in allowed:
        return account_queries.get_account_for_customer(number, user.customer_id)
    if "accounts.read" in allowed:
        return account_queries.get_account_by_number(number)
    raise ApiError(403, "forbidden", "This call needs own.accounts.read or accounts.read.")


@bp.get("/accounts/<number>/holds")
@operation(permission=None, ok=(200, HoldList), errors=(403, 404), path=ACCOUNT_PATH)
def list_holds(number: str) -> HoldList:
    """The account's holds (a customer's own account; staff: accounts.read)"""
    account = _account(number)
    return HoldList(items=[HoldJson.of(row) for row in hold_queries.holds_of_account(account.id)])


def _submit(action: str, params: dict[str, Any], executed_status: int) -> tuple[Any, ...]:
    made = change_requests.submit(action, params, actor=auth.current_user())
    found = change_queries.request_detail(made.id)
    answer = ChangeRequest.of(found.request, found.decisions).model_dump(mode="json")
    status = 202 if made.is_pending else executed_status
    return answer, status, {"Location": url_for("api.get_change_request", request_id=made.id)}


def _hold_id(hold_id: int) -> int:
    if not 0 < hold_id <= ID_MAX:
        raise NotFound("No such hold.")
    hold_queries.get(hold_id)
    return hold_id


HOLD_OPERATION: dict[str, Any] = {"ok": (202, ChangeRequest), "errors": (404, 409)}


@bp.post("/accounts/<number>/holds")
@operation(
    permission="ledger.hold.place.request",
    also=((201, ChangeRequest, "Executed at once: the policy in force needs no approval"),),
    path=ACCOUNT_PATH,
    **HOLD_OPERATION,
)
def request_hold(number: str, json: HoldRequest) -> tuple[Any, ...]:
    """Ask to hold an amount of a customer's account (a change request: 202 until approved)"""
    if not ACCOUNT_NUMBER.fullmatch(number):
        raise NotFound("No such account.")
    account = account_queries.get_account_by_number(number)
    params = {
        "account_id": account.id,
        "amount_minor": json.amount_minor,
        "reason": json.reason,
        "expires_at": json.expires_at,
    }
    return _submit(hold_actions.PLACE, params, 201)


@bp.post("/holds/<int:hold_id>/capture")
@operation(
    permission="ledger.hold.capture.request",
    also=((200, ChangeRequest, "Executed at once: the policy in force needs no approval"),),
    path=HOLD_PATH,
    **HOLD_OPERATION,
)
def request_capture(hold_id: int, json: CaptureRequest) -> tuple[Any, ...]:
    """Ask to capture a hold, all of it or amount_minor of it (202 until approved)"""
    params = {"hold_id": _hold_id(hold_id), "amount_minor": json.amount_minor}
    return _submit(hold_actions.CAPTURE, params, 200)


@bp.post("/holds/<int:hold_id>/release")
@operation(
    permission="ledger.hold.release.request",
    also=((200, ChangeRequest, "Executed at once: the policy in force needs no approval"),),
    path=HOLD_PATH,
    **HOLD_OPERATION,
)
def request_release(hold_id: int, json: ReleaseRequest) -> tuple[Any, ...]:
    """Ask to release a hold (202 until approved)"""
    return _submit(hold_actions.RELEASE, {"hold_id": _hold_id(hold_id)}, 200)
