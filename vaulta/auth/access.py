"""Flask-Login wiring and the access decorators every view uses."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, request, url_for
from flask_login import current_user, login_required

from vaulta.extensions import login_manager
from vaulta.models import User
from vaulta.outages import during_outage
from vaulta.services.identity import permissions, signed_in
from vaulta.web import is_htmx, redirect_to

F = TypeVar("F", bound=Callable[..., Any])


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)
    app.add_template_global(may)
    app.add_template_global(staff_permissions)


def _load_user(session_token: str) -> User | None:
    # The session holds the user's rotating session identifier, never the primary key.
    if during_outage():
        return None  # this request already got its 503: no second try at the database
    return signed_in.by_session_token(session_token)


def acting_user() -> User:
    """The signed-in user (``current_user``'s object): the actor views pass to services."""
    user = current_user._get_current_object()
    if not isinstance(user, User):  # pragma: no cover - views call it behind login_required
        raise RuntimeError("acting_user() needs a signed-in user")
    return user


def _unauthorized() -> Any:
    next_url = request.full_path.rstrip("?") if request.method == "GET" and not is_htmx() else None
    return redirect_to(url_for("auth.login", next=next_url))


def require_permission(name: str) -> Callable[[F], F]:
    """Signed in and holding the permission ``name`` (vaulta/services/identity/permissions.py);
    otherwise the login page (anonymous) or 403 (a customer, or staff without it).

    The permission is kept on the view as ``required_permission`` (the access tests read it).
    """
    if name not in permissions.PERMISSIONS:
        raise KeyError(f"unknown permission {name!r}")

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not permissions.has_permission(acting_user(), name):
                abort(403)
            return view(*args, **kwargs)

        wrapper.required_permission = name  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def require_permission_for(argument: str, names: Mapping[str, str]) -> Callable[[F], F]:
    """Like ``require_permission``, the permission chosen by one URL argument's value
    (``names[kwargs[argument]]``): one route for a deposit and a withdrawal, each with its own."""
    unknown = set(names.values()) - set(permissions.PERMISSIONS)
    if unknown:
        raise KeyError(f"unknown permissions {sorted(unknown)}")

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not permissions.has_permission(acting_user(), names[kwargs[argument]]):
                abort(403)
            return view(*args, **kwargs)

        wrapper.required_permission = tuple(sorted(set(names.values())))  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def customer_required(view: F) -> F:
    """Signed in as a customer's login; staff get 403 (they use the back-office pages)."""

    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user.is_staff or current_user.customer_id is None:
            abort(403)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def staff_permissions() -> frozenset[str] | None:
    """For the layout: the signed-in staff member's permissions; None for anyone else."""
    user = current_user._get_current_object()
    if isinstance(user, User) and user.is_staff:
        return permissions.permissions_of(user)
    return None


def may(name: str) -> bool:
    """For templates: does the signed-in user hold ``name``? (False when signed out.)"""
    user = current_user._get_current_object()
    return isinstance(user, User) and permissions.has_permission(user, name)
