"""Limits as change requests: ``account.overdraft`` (params ``account_id``,
``overdraft_limit_minor``) and ``customer.daily_limit`` (``customer_id``,
``daily_outgoing_limit_minor``, None: no limit). Checked when asked (``prepare``) and when
decided (``recheck``) by vaulta/services/banking/limits.py, applied on approval
(``execute``) with the maker as the audit event's actor. An overdraft lets an account owe
the bank: the seeded policy ``overdraft-limits`` asks two approvers for it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from vaulta.models import User
from vaulta.models.change_request import ChangeRequest
from vaulta.money import format_amount
from vaulta.services.banking import limits
from vaulta.services.changes.actions import ActionSpec, Prepared, register
from vaulta.services.changes.banking_actions import (
    _account,
    _customer,
    _details,
    _int_param,
    params_of,
)

OVERDRAFT = "overdraft_limit_minor"
DAILY = "daily_outgoing_limit_minor"


def prepare_overdraft(s: Session, actor: User, params: dict[str, Any]) -> Prepared:
    account = _account(s, params)
    limit = limits.clean_limit(params.get(OVERDRAFT), field=OVERDRAFT)
    assert limit is not None
    limits.check_overdraft(account, limit)
    owner = account.customer
    return Prepared(
        target_type="account",
        target_id=account.id,
        customer_id=account.customer_id,
        account_kind=account.kind,
        before={OVERDRAFT: account.overdraft_limit_minor},
        after={OVERDRAFT: limit},
        summary=f"Set the overdraft limit of account {account.number} to "
        f"{format_amount(limit, account.currency)}" + (f" ({owner.full_name})" if owner else ""),
        dedupe_key=f"account:{account.id}:overdraft",
        params={"account_id": account.id, OVERDRAFT: limit},
    )


def recheck_overdraft(s: Session, request: ChangeRequest) -> None:
    params = params_of(request)
    limits.check_overdraft(_account(s, params), _int_param(params, OVERDRAFT))


def execute_overdraft(s: Session, request: ChangeRequest, decider: User) -> dict[str, Any]:
    params = params_of(request)
    account = limits.set_overdraft_in(
        s,
        _int_param(params, "account_id"),
        _int_param(params, OVERDRAFT),
        actor=request.maker_id,
        details=_details(request, decider),
    )
    return {"account_id": account.id, OVERDRAFT: account.overdraft_limit_minor}


def _daily(params: dict[str, Any]) -> int | None:
    return limits.clean_limit(params.get(DAILY), field=DAILY, optional=True)


def prepare_daily_limit(s: Session, actor: User, params: dict[str, Any]) -> Prepared:
    customer = _customer(s, params)
    limit = _daily(params)
    limits.check_daily_limit(customer, limit)
    return Prepared(
        target_type="customer",
        target_id=customer.id,
        customer_id=customer.id,
        before={DAILY: customer.daily_outgoing_limit_minor},
        after={DAILY: limit},
        summary=f"Set the daily outgoing limit of customer {customer.customer_number} "
        f"({customer.full_name}) to "
        + ("no limit" if limit is None else f"{limit} minor units per currency"),
        dedupe_key=f"customer:{customer.id}:daily_limit",
        params={"customer_id": customer.id, DAILY: limit},
    )


def recheck_daily_limit(s: Session, request: ChangeRequest) -> None:
    params = params_of(request)
    limits.check_daily_limit(_customer(s, params), _daily(params))


def execute_daily_limit(s: Session, request: ChangeRequest, decider: User) -> dict[str, Any]:
    params = params_of(request)
    customer = limits.set_daily_limit_in(
        s,
        _int_param(params, "customer_id"),
        _daily(params),
        actor=request.maker_id,
        details=_details(request, decider),
    )
    return {"customer_id": customer.id, DAILY: customer.daily_outgoing_limit_minor}


SPECS = (
    ActionSpec(
        name="account.overdraft",
        label="Change overdraft limit",
        is_money=False,
        maker_permission="accounts.manage",
        prepare=prepare_overdraft,
        recheck=recheck_overdraft,
        execute=execute_overdraft,
    ),
    ActionSpec(
        name="customer.daily_limit",
        label="Change daily outgoing limit",
        is_money=False,
        maker_permission="customers.manage",
        prepare=prepare_daily_limit,
        recheck=recheck_daily_limit,
        execute=execute_daily_limit,
    ),
)
for _spec in SPECS:
    register(_spec)
