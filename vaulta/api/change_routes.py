"""``/api/v1`` for staff keys: change requests (the inbox's) and money requests.

- ``GET /change-requests?status=pending``: what the key's user may decide now, oldest first.
- ``GET /change-requests/{id}``: one request, for its maker, its deciders and the bank's
  readers (the same people as its web page, vaulta/inbox/routes.py).
- ``POST /change-requests/{id}/approve`` (``{}`` or ``{"step_up_code"}``) and ``/reject``
  (``{"reason"}``): ``requests.decide``. A level that needs a one-time code answers 403
  ``step_up_required`` and mails the code; call again with it. The maker's own request is
  409 (four eyes), as is a decided one.
- ``POST /accounts/{number}/deposits`` and ``/withdrawals``: a change request, **202** while
  it awaits approval, 201 when the policy in force let it execute at once. The
  Idempotency-Key is honoured as for payments: the first response is stored and replayed,
  another request with the key is 409.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from flask import request, url_for

from vaulta.api import auth, bp
from vaulta.api.change_models import (
    ApproveBody,
    ChangeRequest,
    ChangeRequestPage,
    ChangeRequestQuery,
    MoneyRequest,
    RejectBody,
    summary_of_row,
)
from vaulta.api.errors import ApiError
from vaulta.api.models import ACCOUNT_NUMBER_PATTERN, ID_MAX, IdempotencyHeaders, encode_cursor
from vaulta.api.spec import operation
from vaulta.models import User
from vaulta.services import api_idempotency
from vaulta.services.banking import account_queries
from vaulta.services.changes import change_queries, change_requests
from vaulta.services.errors import Conflict, InvalidInput, NotFound
from vaulta.services.identity import api_keys, permissions

DECIDE = "requests.decide"
VIEWERS = (DECIDE, "customers.read", "ledger.read", "audit.read")
REQUEST_PATH = {"request_id": "Change request id"}
ACCOUNT_PATH = {"number": "Account number (10 digits)"}
ACCOUNT_NUMBER = re.compile(ACCOUNT_NUMBER_PATTERN)
MONEY_ACTIONS = {"deposits": "ledger.deposit", "withdrawals": "ledger.withdrawal"}
# The service's field names → the JSON body's.
API_FIELDS = {"amount": "amount_minor"}


def _caller() -> User:
    return auth.current_user()


def _may(name: str) -> bool:
    scopes = api_keys.scopes_of(auth.current_key())
    return name in permissions.key_permissions(_caller(), scopes)


def _detail(request_id: int) -> ChangeRequest:
    found = change_queries.request_detail(request_id)
    return ChangeRequest.of(found.request, found.decisions)


def _visible(request_id: int) -> None:
    """NotFound for an unknown id; 403 unless the caller made it or may read or decide."""
    if not 0 < request_id <= ID_MAX:
        raise NotFound("No such change request.")
    viewer = any(_may(p) for p in VIEWERS)
    if not viewer and not _caller().is_staff:
        raise ApiError(403, "forbidden", "This call needs a staff key.")
    made = change_requests.get(request_id)
    if not viewer and made.maker_id != _caller().id:
        raise ApiError(403, "forbidden", "Only its maker, deciders and readers see a request.")


def _decidable(request_id: int) -> None:
    """NotFound for an unknown id; the maker's own request is a conflict (four eyes)."""
    if not 0 < request_id <= ID_MAX:
        raise NotFound("No such change request.")
    made = change_requests.get(request_id)
    if made.maker_id == _caller().id:
        raise Conflict("Four eyes: you made this request, so someone else must decide it.")


@bp.get("/change-requests")
@operation(permission=DECIDE, ok=(200, ChangeRequestPage))
def list_change_requests(query: ChangeRequestQuery) -> ChangeRequestPage:
    """The change requests the key's user may decide now, oldest first (keyset pages)"""
    found = change_queries.decidable_for(_caller(), limit=query.limit, after_id=query.cursor)
    last = found[-1].id if len(found) >= query.limit else None
    return ChangeRequestPage(
        items=[summary_of_row(row) for row in found], next_cursor=encode_cursor("c", last)
    )


@bp.get("/change-requests/<int:request_id>")
@operation(permission=None, ok=(200, ChangeRequest), errors=(404,), path=REQUEST_PATH)
def get_change_request(request_id: int) -> ChangeRequest:
    """One change request: the change, its policy's levels and the decisions so far

    For its maker, and for keys that may decide requests or read the bank's customers,
    ledger or audit log.
    """
    _visible(request_id)
    return _detail(request_id)


@bp.post("/change-requests/<int:request_id>/approve")
@operation(permission=DECIDE, ok=(200, ChangeRequest), errors=(404, 409), path=REQUEST_PATH)
def approve_change_request(request_id: int, json: ApproveBody) -> ChangeRequest:
    """Approve the request's next level; the last one executes it

    A level that needs a one-time code answers 403 step_up_required and mails the code to
    the key's user: call again with {"step_up_code": "123456"}.
    """
    _decidable(request_id)
    try:
        change_requests.approve(request_id, actor=_caller(), step_up_code=json.step_up_code)
    except InvalidInput as err:
        field = "step_up_code" if err.field == "code" else err.field
        raise InvalidInput(err.message, field=field) from None
    return _detail(request_id)


@bp.post("/change-requests/<int:request_id>/reject")
@operation(permission=DECIDE, ok=(200, ChangeRequest), errors=(404, 409), path=REQUEST_PATH)
def reject_change_request(request_id: int, json: RejectBody) -> ChangeRequest:
    """Reject the request with a reason"""
    _decidable(request_id)
    change_requests.reject(request_id, actor=_caller(), reason=json.reason)
    return _detail(request_id)


def _request_key(key: str) -> str:
    """The change request's idempotency key: the API key's per user (64 characters at most,
    and never another user's)."""
    digest = hashlib.sha256(f"{_caller().id}:{key}".encode()).hexdigest()
    return f"api-{digest[:40]}"


def _money(kind: str, number: str, body: MoneyRequest, key: str) -> tuple[Any, ...]:
    hashed = api_idempotency.request_hash(request.method, request.path, request.get_json())
    replay = api_idempotency.stored(_caller(), key, hashed)
    if replay is None:
        if not ACCOUNT_NUMBER.fullmatch(number):
            raise NotFound("No such account.")
        account = account_queries.get_account_by_number(number)
        params = {
            "account_id": account.id,
            "amount_minor": body.amount_minor,
            "currency": body.currency,
            "description": body.description,
        }
        if body.value_date is not None:
            params["value_date"] = body.value_date
        try:
            made = change_requests.submit(
                MONEY_ACTIONS[kind], params, actor=_caller(), idempotency_key=_request_key(key)
            )
        except InvalidInput as err:
            field = API_FIELDS.get(err.field or "", err.field)
            raise InvalidInput(err.message, field=field) from None
        found = change_queries.request_detail(made.id)
        answer = ChangeRequest.of(found.request, found.decisions).model_dump(mode="json")
        status = 202 if made.is_pending else 201
        replay = api_idempotency.run_once(_caller(), key, hashed, lambda _s: (status, answer))
    headers = {"Location": url_for("api.get_change_request", request_id=replay.body["id"])}
    if replay.replayed:
        headers["Idempotent-Replayed"] = "true"
    return replay.body, replay.status, headers


MONEY_OPERATION = {
    "ok": (202, ChangeRequest),
    "also": ((201, ChangeRequest, "Executed at once: the policy in force needs no approval"),),
    "errors": (404, 409, 413),
    "path": ACCOUNT_PATH,
}


@bp.post("/accounts/<number>/deposits")
@operation(permission="ledger.deposit.request", **MONEY_OPERATION)  # type: ignore[arg-type]
def request_deposit(
    number: str, json: MoneyRequest, headers: IdempotencyHeaders
) -> tuple[Any, ...]:
    """Ask for a deposit into a customer's account (a change request: 202 until approved)"""
    return _money("deposits", number, json, headers.idempotency_key)


@bp.post("/accounts/<number>/withdrawals")
@operation(permission="ledger.withdrawal.request", **MONEY_OPERATION)  # type: ignore[arg-type]
def request_withdrawal(
    number: str, json: MoneyRequest, headers: IdempotencyHeaders
) -> tuple[Any, ...]:
    """Ask for a withdrawal from a customer's account (a change request: 202 until approved)"""
    return _money("withdrawals", number, json, headers.idempotency_key)
