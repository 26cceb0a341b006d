"""The JSON API ``/api/v1``: thin views over the accounts, statements and payments services."""

from __future__ import annotations

from flask import Response, g, jsonify, request, url_for

from vaulta.api import auth, bp, openapi, schemas
from vaulta.api.auth import requires_permission
from vaulta.api.schemas import ApiError
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

NO_AUTH_ENDPOINTS = frozenset({"api.openapi_document"})


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
def openapi_document() -> Response:
    return jsonify(openapi.document())


@bp.get("/me")
def me() -> Response:
    """Who the key is: its user's roles and what this key may do (any valid key)."""
    user, key = auth.current_user(), auth.current_key()
    scopes = api_keys.scopes_of(key)
    return jsonify(
        email=user.email,
        roles=sorted(permissions.roles_of(user)),
        scopes=scopes,
        permissions=sorted(permissions.key_permissions(user, scopes)),
    )


def _customer_id() -> int:
    customer_id = auth.current_user().customer_id
    assert customer_id is not None  # the own.* permissions are customers' logins' only
    return customer_id


def _own_account(number: str) -> Account:
    checked = schemas.path_account_number(number)
    if checked is None:
        raise NotFound("No such account.")
    return account_queries.get_account_for_customer(checked, _customer_id())


@bp.get("/accounts")
@requires_permission("own.accounts.read")
def list_accounts() -> Response:
    found = account_queries.accounts_of_customer(_customer_id())
    return jsonify(items=[schemas.account_json(a) for a in found])


@bp.get("/accounts/<number>")
@requires_permission("own.accounts.read")
def get_account(number: str) -> Response:
    return jsonify(schemas.account_json(_own_account(number)))


@bp.get("/accounts/<number>/transactions")
@requires_permission("own.accounts.read")
def list_transactions(number: str) -> Response:
    limit = schemas.parse_limit(request.args.get("limit"))
    before_id = schemas.decode_cursor(request.args.get("cursor"), "t")
    page = statements.statement_page(_own_account(number), before_id=before_id, limit=limit)
    items = [schemas.transaction_json(row) for row in page.rows]
    return jsonify(schemas.page_json(items, page.next_before_id, "t"))


@bp.get("/payments")
@requires_permission("own.payments.read")
def list_payments() -> Response:
    status = schemas.parse_status(request.args.get("status"))
    limit = schemas.parse_limit(request.args.get("limit"))
    before_id = schemas.decode_cursor(request.args.get("cursor"), "p")
    found, next_id = payment_queries.page_for_customer(
        _customer_id(), status=status, before_id=before_id, limit=limit
    )
    return jsonify(schemas.page_json([schemas.payment_json(p) for p in found], next_id, "p"))


@bp.get("/payments/<int:payment_id>")
@requires_permission("own.payments.read")
def get_payment(payment_id: int) -> Response:
    if schemas.path_id(payment_id) is None:
        raise NotFound("No such payment.")
    return jsonify(
        schemas.payment_json(payment_queries.get_for_customer(payment_id, auth.current_user()))
    )


@bp.post("/payments")
@requires_permission("own.payments.request")
def create_payment() -> Response:
    key = schemas.idempotency_key(request.headers.get("Idempotency-Key"))
    body = request.get_json(silent=True) if request.is_json else None
    if body is None:
        raise ApiError(
            400, "malformed_request", "Send a JSON object (Content-Type: application/json)."
        )
    result = api_payments.request_payment_via_api(
        actor=auth.current_user(),
        request=schemas.payment_request(body),
        idempotency_key=key,
        request_hash=api_idempotency.request_hash(request.method, request.path, body),
        key_prefix=auth.current_key().prefix,
        render=schemas.payment_json,
    )
    response = jsonify(result.body)
    response.status_code = result.status
    if result.status == 201:
        response.headers["Location"] = url_for("api.get_payment", payment_id=result.body["id"])
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response
