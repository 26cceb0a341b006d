"""``/api/v1`` for staff keys: limits and blocks, each a change request (issue 16).

- ``POST /accounts/{number}/overdraft-limit`` (``{"overdraft_limit_minor"}``),
  ``POST /accounts/{number}/debit-block``, ``/credit-block``, ``/unblock``
  (``{"reason"?}``): ``accounts.manage``.
- ``POST /customers/{customer_number}/daily-limit`` (``{"daily_outgoing_limit_minor"}``,
  null: no limit): ``customers.manage``.

Each answers **202** with the change request while it awaits approval, 201 when the policy
in force let it execute at once; 409 when a request for the same change is already pending
(or the change is not possible now), 422 for invalid input, 404 for an unknown object.
"""

from __future__ import annotations

import re
from typing import Any

from flask import url_for

from vaulta.api import auth, bp
from vaulta.api.change_models import ChangeRequest
from vaulta.api.limit_models import BlockRequest, DailyLimitRequest, OverdraftRequest
from vaulta.api.models import ACCOUNT_NUMBER_PATTERN
from vaulta.api.spec import operation
from vaulta.services.banking import account_queries, customer_queries
from vaulta.services.changes import change_queries, change_requests
from vaulta.services.errors import NotFound

ACCOUNT_PATH = {"number": "Account number (10 digits)"}
CUSTOMER_PATH = {"customer_number": "Customer number (C and 8 digits)"}
ACCOUNT_NUMBER = re.compile(ACCOUNT_NUMBER_PATTERN)
CUSTOMER_NUMBER = re.compile(r"^C[0-9]{8}$")
BLOCKS = {
    "debit-block": "account.debit_block",
    "credit-block": "account.credit_block",
    "unblock": "account.unblock",
}
OPERATION: dict[str, Any] = {
    "ok": (202, ChangeRequest),
    "also": ((201, ChangeRequest, "Executed at once: the policy in force needs no approval"),),
    "errors": (404, 409, 413),
}


def _account_id(number: str) -> int:
    if not ACCOUNT_NUMBER.fullmatch(number):
        raise NotFound("No such account.")
    return account_queries.get_account_by_number(number).id


def _submit(action: str, params: dict[str, Any]) -> tuple[Any, ...]:
    made = change_requests.submit(action, params, actor=auth.current_user())
    found = change_queries.request_detail(made.id)
    answer = ChangeRequest.of(found.request, found.decisions).model_dump(mode="json")
    headers = {"Location": url_for("api.get_change_request", request_id=made.id)}
    return answer, 202 if made.is_pending else 201, headers


@bp.post("/accounts/<number>/overdraft-limit")
@operation(permission="accounts.manage", path=ACCOUNT_PATH, **OPERATION)
def request_overdraft_limit(number: str, json: OverdraftRequest) -> tuple[Any, ...]:
    """Ask for a customer account's new overdraft limit (a change request: 202 until approved)"""
    params = {"account_id": _account_id(number), **json.model_dump()}
    return _submit("account.overdraft", params)


def _block(kind: str, number: str, body: BlockRequest) -> tuple[Any, ...]:
    return _submit(BLOCKS[kind], {"account_id": _account_id(number), "reason": body.reason})


@bp.post("/accounts/<number>/debit-block")
@operation(permission="accounts.manage", path=ACCOUNT_PATH, **OPERATION)
def request_debit_block(number: str, json: BlockRequest) -> tuple[Any, ...]:
    """Ask to stop money leaving an account (a change request: 202 until approved)"""
    return _block("debit-block", number, json)


@bp.post("/accounts/<number>/credit-block")
@operation(permission="accounts.manage", path=ACCOUNT_PATH, **OPERATION)
def request_credit_block(number: str, json: BlockRequest) -> tuple[Any, ...]:
    """Ask to stop money entering an account (a change request: 202 until approved)"""
    return _block("credit-block", number, json)


@bp.post("/accounts/<number>/unblock")
@operation(permission="accounts.manage", path=ACCOUNT_PATH, **OPERATION)
def request_unblock(number: str, json: BlockRequest) -> tuple[Any, ...]:
    """Ask to lift an account's debit or credit block (a change request: 202 until approved)"""
    return _block("unblock", number, json)


@bp.post("/customers/<customer_number>/daily-limit")
@operation(permission="customers.manage", path=CUSTOMER_PATH, **OPERATION)
def request_daily_limit(customer_number: str, json: DailyLimitRequest) -> tuple[Any, ...]:
    """Ask for a customer's daily outgoing limit (a change request: 202 until approved)"""
    if not CUSTOMER_NUMBER.fullmatch(customer_number):
        raise NotFound("No such customer.")
    customer = customer_queries.get_customer_by_number(customer_number)
    return _submit("customer.daily_limit", {"customer_id": customer.id, **json.model_dump()})
