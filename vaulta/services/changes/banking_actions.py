"""Customers and accounts as change requests: what a teller asks for is checked when asked
(``prepare``), checked again when decided (``recheck``) and done once approved (``execute``),
by the banking services' ``check_*`` and ``*_in`` functions (vaulta/services/banking/).

Actions: ``customer.create`` (the row exists only once approved), ``customer.update``,
``customer.suspend``, ``customer.reactivate``, ``customer.close``; ``account.open``,
``account.freeze``, ``account.unfreeze``, ``account.close``, ``account.debit_block``,
``account.credit_block``, ``account.unblock`` (limits: vaulta/services/changes/limit_actions.py).
The audit events and business events (``customer.created``, ``account.frozen`` …) are
written on execution, with the maker as their actor and the request's id in their details.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from vaulta.models import Account, Customer, User
from vaulta.models.change_request import ChangeRequest
from vaulta.services.banking import accounts, customers
from vaulta.services.changes.actions import ActionSpec, Prepared, register
from vaulta.services.errors import InvalidInput, NotFound

CUSTOMER_FIELDS = customers.EDITABLE_FIELDS
LABELS = {
    "account.freeze": "Freeze account",
    "account.unfreeze": "Unfreeze account",
    "account.close": "Close account",
    "account.debit_block": "Block money out of account",
    "account.credit_block": "Block money into account",
    "account.unblock": "Unblock account",
    "customer.suspend": "Suspend customer",
    "customer.reactivate": "Reactivate customer",
    "customer.close": "Close customer",
}
STATUS_VERBS = {
    "account.freeze": "Freeze",
    "account.unfreeze": "Unfreeze",
    "account.close": "Close",
    "account.debit_block": "Block debits on",
    "account.credit_block": "Block credits on",
    "account.unblock": "Unblock",
    "customer.suspend": "Suspend",
    "customer.reactivate": "Reactivate",
    "customer.close": "Close",
}


def params_of(request: ChangeRequest) -> dict[str, Any]:
    return dict((request.change or {}).get("params") or {})


def _int_param(params: dict[str, Any], name: str) -> int:
    value = params.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"Name the {name.removesuffix('_id')}.", field=name)
    return value


def _details(request: ChangeRequest, decider: User) -> dict[str, Any]:
    return {"change_request_id": request.id, "approved_by_id": decider.id}


# --- customers -------------------------------------------------------------------------


def _fields(params: dict[str, Any]) -> dict[str, str | None]:
    return customers.clean_fields(*(params.get(name) for name in CUSTOMER_FIELDS))


def _customer(s: Session, params: dict[str, Any]) -> Customer:
    customer = s.get(Customer, _int_param(params, "customer_id"), populate_existing=True)
    if customer is None:
        raise NotFound("No such customer.")
    return customer


def prepare_customer_create(s: Session, actor: User, params: dict[str, Any]) -> Prepared:
    fields = _fields(params)
    return Prepared(
        target_type="customer",
        target_id=None,
        before={},
        after={k: v for k, v in fields.items() if v is not None},
        summary=f"Create customer {fields['full_name']}",
        dedupe_key=f"customer.create:{fields['email']}" if fields["email"] else None,
        params=fields,
    )


def execute_customer_create(s: Session, request: ChangeRequest, decider: User) -> dict[str, Any]:
    created = customers.create_in(
        s, _fields(params_of(request)), actor=request.maker_id, details=_details(request, decider)
    )
    request.target_id = created.id
    request.customer_id = created.id
    return {"customer_id": created.id, "customer_number": created.customer_number}


def prepare_customer_update(s: Session, actor: User, params: dict[str, Any]) -> Prepared:
    customer = _customer(s, params)
    customers.check_editable(customer)
    fields = _fields(params)
    changes = customers.changes_of(customer, fields)
    if not changes:
        raise InvalidInput("Nothing to change: the details are the same.")
    return Prepared(
        target_type="customer",
        target_id=customer.id,
        customer_id=customer.id,
        before={name: change["old"] for name, change in changes.items()},
        after={name: change["new"] for name, change in changes.items()},
        summary=f"Edit customer {customer.customer_number} ({customer.full_name})",
        dedupe_key=f"customer:{customer.id}:details",
        params={"customer_id": customer.id, **fields},
    )


def recheck_customer_update(s: Session, request: ChangeRequest) -> None:
    customers.check_editable(_customer(s, params_of(request)))


def execute_customer_update(s: Session, request: ChangeRequest, decider: User) -> dict[str, Any]:
    params = params_of(request)
    customers.update_in(
        s,
        _int_param(params, "customer_id"),
        _fields(params),
        actor=request.maker_id,
        details=_details(request, decider),
    )
    return {"customer_id": params["customer_id"]}


def _customer_status(action: str) -> ActionSpec:
    def prepare(s: Session, actor: User, params: dict[str, Any]) -> Prepared:
        customer = _customer(s, params)
        to = customers.check_status_change(s, customer, action)
        return Prepared(
            target_type="customer",
            target_id=customer.id,
            customer_id=customer.id,
            before={"status": customer.status},
            after={"status": to},
            summary=f"{STATUS_VERBS[action]} customer {customer.customer_number} "
            f"({customer.full_name})",
            dedupe_key=f"customer:{customer.id}:status",
            params={"customer_id": customer.id},
        )

    def recheck(s: Session, request: ChangeRequest) -> None:
        customers.check_status_change(s, _customer(s, params_of(request)), action)

    def execute(s: Session, request: ChangeRequest, decider: User) -> dict[str, Any]:
        customer = customers.change_status_in(
            s,
            _int_param(params_of(request), "customer_id"),
            action,
            actor=request.maker_id,
            details=_details(request, decider),
        )
        return {"customer_id": customer.id, "status": customer.status}

    return ActionSpec(
        name=action,
        label=LABELS[action],
        is_money=False,
        maker_permission="customers.manage",
        prepare=prepare,
        recheck=recheck,
        execute=execute,
    )


# --- accounts --------------------------------------------------------------------------


def _account(s: Session, params: dict[str, Any]) -> Account:
    account = s.get(Account, _int_param(params, "account_id"), populate_existing=True)
    if account is None:
        raise NotFound("No such account.")
    return account


def prepare_account_open(s: Session, actor: User, params: dict[str, Any]) -> Prepared:
    currency = str(params.get("currency") or "")
    customer = accounts.check_can_open(s, _int_param(params, "customer_id"), currency)
    return Prepared(
        target_type="account",
        target_id=None,
        customer_id=customer.id,
        account_kind="customer",
        before={},
        after={"customer": customer.customer_number, "currency": currency, "status": "active"},
        summary=f"Open a {currency} account for {customer.customer_number} ({customer.full_name})",
        dedupe_key=f"account.open:{customer.id}:{currency}",
        params={"customer_id": customer.id, "currency": currency},
    )


def recheck_account_open(s: Session, request: ChangeRequest) -> None:
    params = params_of(request)
    accounts.check_can_open(s, _int_param(params, "customer_id"), str(params.get("currency")))


def execute_account_open(s: Session, request: ChangeRequest, decider: User) -> dict[str, Any]:
    params = params_of(request)
    account = accounts.open_in(
        s,
        _int_param(params, "customer_id"),
        str(params.get("currency")),
        actor=request.maker_id,
        details=_details(request, decider),
    )
    request.target_id = account.id
    return {"account_id": account.id, "number": account.number}


def _account_status(action: str) -> ActionSpec:
    def prepare(s: Session, actor: User, params: dict[str, Any]) -> Prepared:
        account = _account(s, params)
        to = accounts.check_status_change(account, action)
        reason = accounts.clean_reason(params.get("reason"))
        owner = account.customer
        return Prepared(
            target_type="account",
            target_id=account.id,
            customer_id=account.customer_id,
            account_kind=account.kind,
            before={"status": account.status},
            after={"status": to},
            summary=f"{STATUS_VERBS[action]} account {account.number}"
            + (f" ({owner.full_name})" if owner else ""),
            dedupe_key=f"account:{account.id}:status",
            params={"account_id": account.id, "reason": reason},
        )

    def recheck(s: Session, request: ChangeRequest) -> None:
        accounts.check_status_change(_account(s, params_of(request)), action)

    def execute(s: Session, request: ChangeRequest, decider: User) -> dict[str, Any]:
        params = params_of(request)
        account = accounts.change_status_in(
            s,
            _int_param(params, "account_id"),
            action,
            actor=request.maker_id,
            reason=params.get("reason"),
            details=_details(request, decider),
        )
        return {"account_id": account.id, "status": account.status}

    return ActionSpec(
        name=action,
        label=LABELS[action],
        is_money=False,
        maker_permission="accounts.manage",
        prepare=prepare,
        recheck=recheck,
        execute=execute,
    )


def _nothing_to_recheck(s: Session, request: ChangeRequest) -> None:
    """A new customer depends on nothing that can change meanwhile."""


SPECS = (
    ActionSpec(
        name="customer.create",
        label="Create customer",
        is_money=False,
        maker_permission="customers.manage",
        prepare=prepare_customer_create,
        recheck=_nothing_to_recheck,
        execute=execute_customer_create,
    ),
    ActionSpec(
        name="customer.update",
        label="Edit customer",
        is_money=False,
        maker_permission="customers.manage",
        prepare=prepare_customer_update,
        recheck=recheck_customer_update,
        execute=execute_customer_update,
    ),
    *(_customer_status(a) for a in ("customer.suspend", "customer.reactivate", "customer.close")),
    ActionSpec(
        name="account.open",
        label="Open account",
        is_money=False,
        maker_permission="accounts.manage",
        prepare=prepare_account_open,
        recheck=recheck_account_open,
        execute=execute_account_open,
    ),
    *(
        _account_status(a)
        for a in (
            "account.freeze",
            "account.unfreeze",
            "account.close",
            "account.debit_block",
            "account.credit_block",
            "account.unblock",
        )
    ),
)
for _spec in SPECS:
    register(_spec)
