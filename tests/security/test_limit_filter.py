"""The rate limiter skips its evaluation only on endpoints no limit is registered for."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.webclient import WebClient
from vaulta.extensions import limiter
from vaulta.security import UNLIMITED_ENDPOINTS, check_limits, unlimited_endpoints


def test_every_endpoint_with_a_limit_is_checked(app: Flask) -> None:
    unlimited = unlimited_endpoints(app, limiter)
    manager = limiter.limit_manager
    for endpoint, view in app.view_functions.items():
        name = f"{view.__module__}.{view.__name__}"
        if name in manager._decorated_limits or endpoint.startswith("api."):
            assert endpoint not in unlimited, endpoint
    # Limited with methods=["POST"] only: the GET is still evaluated by the limiter.
    for endpoint in ("auth.login", "auth.second_factor", "payments.new", "approvals.approve"):
        assert endpoint not in unlimited
    assert {"customers.index", "admin.index", "approvals.index"} <= unlimited


def test_a_default_limit_turns_the_shortcut_off(app: Flask) -> None:
    manager = limiter.limit_manager
    saved = manager._default_limits
    manager._default_limits = [object()]  # type: ignore[list-item]
    try:
        assert unlimited_endpoints(app, limiter) == frozenset()
    finally:
        manager._default_limits = saved


def test_pages_without_limits_still_answer(app: Flask, admin_client: WebClient) -> None:
    assert admin_client.get("/admin/customers/").status_code == 200
    assert "customers.index" in app.extensions[UNLIMITED_ENDPOINTS]


def test_the_limiter_is_not_started_where_no_limit_applies(
    app: Flask, admin_client: WebClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``check_limits`` replaced Flask-Limiter's before_request check (a pinned internal)."""
    hooks = app.before_request_funcs[None]
    assert check_limits in hooks
    assert limiter._check_request_limit not in hooks
    checked: list[bool] = []  # in_middleware, per check

    def check(*, in_middleware: bool = True, **_kwargs: object) -> None:
        checked.append(in_middleware)

    monkeypatch.setattr(limiter, "_check_request_limit", check)
    assert admin_client.get("/admin/customers/").status_code == 200
    assert checked == []
    admin_client.get("/login")
    assert checked[0] is True  # the before_request check ran
