"""The JSON API ``/api/v1``: thin views over the accounts, statements and payments services.

Each view is declared with ``operation`` (vaulta/api/spec.py): its models are both its
request checks and its part of the OpenAPI document.
"""

from __future__ import annotations

import re
from typing import Any

from flask import g, request, url_for

from vaulta.api import auth, bp
from vaulta.api.models import (
    ACCOUNT_NUMBER_PATTERN,
    ID_MAX,
    AccountList,
    IdempotencyHeaders,
    Me,
    OpenApiDocument,
    PaymentPage,
    PaymentQuery,
    PaymentRequest,
    TransactionPage,
    TransactionQuery,
    encode_cursor,
)
from vaulta.api.models import Account as AccountJson
from vaulta.api.models import Payment as PaymentJson
from vaulta.api.models import Transaction as TransactionJson
from vaulta.api.spec import document, operation
from vaulta.extensions import limiter
from vaulta.models import Account
from vaulta.security.limits import (
    API_AUTH_FAILURES_LIMIT,
    API_LIMIT,
    by_api_key,
    by_client_address,
    refused_authentication,
)
from vaulta.services import api_idempotency
from vaulta.services.banking import account_queries
from vaulta.services.errors import NotFound
from vaulta.services.identity import api_keys, permissions
from vaulta.services.ledger import statements
from vaulta.services.payments import api_payments, payment_queries
from vaulta.services.payments.payment_creation import PaymentOrder

NO_AUTH_ENDPOINTS = frozenset({"api.openapi_document"})
ACCOUNT_NUMBER = re.compile(ACCOUNT_NUMBER_PATTERN)
ACCOUNT_PATH = {"number": "Account number (10 digits)"}


@bp.before_request
def _guard() -> None:
    g.pop("api_user", None)  # never a previous request's caller (tests reuse app contexts)
    g.pop("api_key", None)
    auth.refuse_key_in_query()
    if request.endpoint not in NO_AUTH_ENDPOINTS:
        _authenticate()


@limiter.shared_limit(
    API_AUTH_FAILURES_LIMIT,
    scope="api-auth-failures",
    key_func=by_client_address,
    deduct_when=refused_authentication,
)
def _authenticate() -> None:
    """The caller's key, then one call counted against it.

    An address whose calls were refused 401 too often gets 429 before its key is even
    checked; only authenticated calls count against a key, so wrong secrets sent with
    someone's public prefix never spend that key's budget.
    """
    auth.authenticate()
    _count_against_key()


@limiter.shared_limit(API_LIMIT, scope="api", key_func=by_api_key)
def _count_against_key() -> None:
    """One call of an authenticated key: one RATELIMIT_API budget for all its calls."""


@bp.get("/openapi.json")
@operation(permission=None, key=False, ok=(200, OpenApiDocument))
def openapi_document() -> dict[str, Any]:
    """This document (OpenAPI 3.1)"""
    return document()


@bp.get("/me")
@operation(permission=None, ok=(200, Me))
def me() -> Me:
    """The key's user, roles, scopes and permissions (any valid key)"""
    user, key = auth.current_user(), auth.current_key()
    scopes = api_keys.scopes_of(key)
    return Me(
        email=user.email,
        roles=sorted(permissions.roles_of(user)),
        scopes=list(scopes),
        permissions=sorted(permissions.key_permissions(user, scopes)),
    )


def _customer_id() -> int:
    customer_id = auth.current_user().customer_id
    assert customer_id is not None  # the own.* permissions are customers' logins' only
    return customer_id


def _own_account(number: str) -> Account:
    if not ACCOUNT_NUMBER.fullmatch(number):
        raise NotFound("No such account.")
    return account_queries.get_account_for_customer(number, _customer_id())


@bp.get("/accounts")
@operation(permission="own.accounts.read", ok=(200, AccountList))
def list_accounts() -> AccountList:
    """The customer's accounts"""
    found = account_queries.accounts_of_customer(_customer_id())
    return AccountList(items=[AccountJson.of(a) for a in found])


@bp.get("/accounts/<number>")
@operation(permission="own.accounts.read", ok=(200, AccountJson), errors=(404,), path=ACCOUNT_PATH)
def get_account(number: str) -> AccountJson:
    """One account"""
    return AccountJson.of(_own_account(number))


@bp.get("/accounts/<number>/transactions")
@operation(
    permission="own.accounts.read", ok=(200, TransactionPage), errors=(404,), path=ACCOUNT_PATH
)
def list_transactions(number: str, query: TransactionQuery) -> TransactionPage:
    """The account's transactions, newest value date first (keyset pages)"""
    page = statements.statement_page(
        _own_account(number), before_id=query.cursor, limit=query.limit
    )
    return TransactionPage(
        items=[TransactionJson.of(row) for row in page.rows],
        next_cursor=encode_cursor("t", page.next_before_id),
    )


@bp.get("/payments")
@operation(permission="own.payments.read", ok=(200, PaymentPage))
def list_payments(query: PaymentQuery) -> PaymentPage:
    """The customer's payments, newest first (keyset pages)"""
    found, next_id = payment_queries.page_for_customer(
        _customer_id(), status=query.status, before_id=query.cursor, limit=query.limit
    )
    return PaymentPage(
        items=[PaymentJson.of(p) for p in found], next_cursor=encode_cursor("p", next_id)
    )


@bp.get("/payments/<int:payment_id>")
@operation(
    permission="own.payments.read",
    ok=(200, PaymentJson),
    errors=(404,),
    path={"payment_id": "Payment id"},
)
def get_payment(payment_id: int) -> PaymentJson:
    """One payment"""
    if not 0 < payment_id <= ID_MAX:
        raise NotFound("No such payment.")
    return PaymentJson.of(payment_queries.get_for_customer(payment_id, auth.current_user()))


def _payment_json(payment: Any) -> dict[str, Any]:
    return PaymentJson.of(payment).model_dump(mode="json")


@bp.post("/payments")
@operation(permission="own.payments.request", ok=(201, PaymentJson), errors=(409, 413))
def create_payment(
    json: PaymentRequest, headers: IdempotencyHeaders
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Request a payment (created in pending_approval: the key is the credential)

    A VAULTA account (to_account) or an external IBAN (beneficiary, with an optional BIC).
    """
    beneficiary = json.beneficiary
    result = api_payments.request_payment_via_api(
        actor=auth.current_user(),
        order=PaymentOrder(
            from_account=json.from_account,
            reference=json.reference,
            amount_minor=json.amount_minor,
            currency=json.currency,
            to_account=json.to_account or "",
            beneficiary_name=beneficiary.name if beneficiary else "",
            beneficiary_iban=beneficiary.iban if beneficiary else "",
            beneficiary_bic=(beneficiary.bic or "") if beneficiary else "",
        ),
        idempotency_key=headers.idempotency_key,
        request_hash=api_idempotency.request_hash(request.method, request.path, request.get_json()),
        key_prefix=auth.current_key().prefix,
        render=_payment_json,
    )
    extra: dict[str, str] = {}
    if result.status == 201:
        extra["Location"] = url_for("api.get_payment", payment_id=result.body["id"])
    if result.replayed:
        extra["Idempotent-Replayed"] = "true"
    return result.body, result.status, extra
