"""Bearer API keys for the JSON API: who is calling, with which scopes.

- Only ``Authorization: Bearer vk_<prefix>_<secret>`` authenticates. A cookie session never
  does, so CSRF (which protects cookie-authenticated forms) does not apply to the API and
  the blueprint is exempt from it.
- A key in the query string (``api_key``, ``key``, ``token``, ``access_token`` or any value
  or name starting with ``vk_``) is refused with 400 before anything else: URLs end up in
  logs, browser history and Referer headers. The key should be revoked.
- Missing, malformed, unknown, revoked or expired keys and deactivated logins: 401 with
  ``WWW-Authenticate: Bearer``.
- Every operation names the permission it needs (``requires_permission``). A call's
  permissions are its user's (customer or staff roles) narrowed by the key's scopes
  (vaulta/services/identity/permissions.py): a user without the permission gets 403
  ``forbidden``; a user who holds it through a key whose scopes leave it out gets 403
  ``insufficient_scope`` naming the scope that would carry it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request
from werkzeug.wrappers import Response

from vaulta.api.errors import ApiError
from vaulta.models import ApiKey, User
from vaulta.services.identity import api_keys, permissions

F = TypeVar("F", bound=Callable[..., Any])

REALM = 'Bearer realm="vaulta-api"'
QUERY_KEY_NAMES = frozenset({"api_key", "apikey", "key", "token", "access_token"})
# The shape api_keys.create makes; anything else is refused without a database query.
TOKEN_SHAPE = re.compile(r"^vk_[A-Za-z0-9]{10}_[A-Za-z0-9_-]{16,256}$")
READ = permissions.SCOPE_READ
PAYMENTS_WRITE = permissions.SCOPE_PAYMENTS_WRITE


class Unauthorized(ApiError):
    def __init__(self, message: str, *, error: str | None = None) -> None:
        super().__init__(401, "unauthorized", message)
        self.challenge = REALM + (f', error="{error}"' if error else "")


class InsufficientScope(ApiError):
    def __init__(self, scope: str) -> None:
        super().__init__(
            403, "insufficient_scope", f"This call needs a key with the {scope!r} scope."
        )
        self.challenge = f'{REALM}, error="insufficient_scope", scope="{scope}"'


def refuse_key_in_query() -> None:
    """400 when the query string carries anything that looks like an API key."""
    for name, value in request.args.items(multi=True):
        lowered = name.lower()
        if lowered in QUERY_KEY_NAMES or lowered.startswith("vk_") or value.startswith("vk_"):
            raise ApiError(
                400,
                "api_key_in_query",
                "API keys are accepted only in the Authorization header, never in the URL. "
                "Revoke this key: the URL may have been logged.",
            )


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Unauthorized("Send your API key as 'Authorization: Bearer vk_…'.")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Use the Bearer scheme with an API key.", error="invalid_request")
    return token.strip()


def authenticate() -> None:
    """Find the key's owner and keep both on ``g`` for this request; 401/403 otherwise."""
    token = _bearer_token()
    found = api_keys.authenticate(token) if TOKEN_SHAPE.match(token) else None
    if found is None:
        raise Unauthorized(
            "This API key is not valid: it is unknown, revoked or expired.", error="invalid_token"
        )
    user, key = found
    g.api_user, g.api_key = user, key


def current_user() -> User:
    user: User = g.api_user
    return user


def current_key() -> ApiKey:
    key: ApiKey = g.api_key
    return key


def scope_for(permission: str) -> str:
    """The scope a key needs to carry ``permission``: ``read`` or ``payments:write`` when
    one of them does, else the permission's own name (staff keys)."""
    for scope, allowed in permissions.SCOPE_PERMISSIONS.items():
        if permission in allowed:
            return scope
    return permission


def requires_permission(name: str) -> Callable[[F], F]:
    """The caller's user holds ``name`` and the key's scopes let it through."""
    if name not in permissions.PERMISSIONS:
        raise KeyError(f"unknown permission {name!r}")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if not permissions.has_permission(user, name):
                raise ApiError(403, "forbidden", f"This call needs the {name!r} permission.")
            scopes = api_keys.scopes_of(current_key())
            if name not in permissions.key_permissions(user, scopes):
                raise InsufficientScope(scope_for(name))
            return view(*args, **kwargs)

        wrapper.required_permission = name  # type: ignore[attr-defined]
        wrapper.required_scope = scope_for(name)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def requires_any_permission(*names: str) -> Callable[[F], F]:
    """The caller's user holds one of ``names`` and the key's scopes let that one through
    (an operation both customers and staff may call; the view decides what each sees)."""
    for name in names:
        if name not in permissions.PERMISSIONS:
            raise KeyError(f"unknown permission {name!r}")
    listed = " or ".join(repr(name) for name in names)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            held = [name for name in names if permissions.has_permission(user, name)]
            if not held:
                raise ApiError(403, "forbidden", f"This call needs the {listed} permission.")
            scopes = api_keys.scopes_of(current_key())
            if not any(name in permissions.key_permissions(user, scopes) for name in held):
                raise InsufficientScope(scope_for(held[0]))
            return view(*args, **kwargs)

        wrapper.required_permission = names  # type: ignore[attr-defined]
        wrapper.required_scope = scope_for(names[0])  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def add_challenge(response: Response, err: ApiError) -> Response:
    challenge = getattr(err, "challenge", None)
    if challenge:
        response.headers["WWW-Authenticate"] = challenge
    return response
