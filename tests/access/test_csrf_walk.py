"""Every state-changing route refuses a request without a CSRF token (the JSON API, which
authenticates with bearer keys and never with cookies, is the one exemption)."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.access.conftest import World
from tests.access.test_route_walk import url_for_rule
from tests.webclient import WebClient

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def state_changing_rules(app: Flask) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & STATE_CHANGING):
            if not rule.endpoint.startswith("api."):
                found.append((rule.endpoint, method))
    return sorted(found)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "endpoint_method" in metafunc.fixturenames:
        from vaulta import create_app

        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
        metafunc.parametrize("endpoint_method", state_changing_rules(app), ids=str)


@pytest.mark.parametrize("role", ["customer", "admin"])
def test_refused_without_a_csrf_token(
    app: Flask, client: WebClient, world: World, endpoint_method: tuple[str, str], role: str
) -> None:
    endpoint, method = endpoint_method
    [rule] = [r for r in app.url_map.iter_rules(endpoint) if method in (r.methods or ())]
    client.sign_in(world.user(role))
    url = url_for_rule(rule, world)
    plain = client.open(url, method=method, data={})
    htmx = client.open(url, method=method, data={}, headers={"HX-Request": "true"})
    wrong = client.open(url, method=method, data={"csrf_token": "forged"})
    for response in (plain, htmx, wrong):
        assert response.status_code == 400, f"{method} {url}: {response.status_code}"
        response.close()


def test_the_api_is_the_only_exemption(app: Flask) -> None:
    exempt = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if (rule.methods or set()) & STATE_CHANGING and rule.endpoint.startswith("api.")
    }
    assert exempt == {
        "api.create_payment",
        "api.approve_change_request",
        "api.reject_change_request",
        "api.request_deposit",
        "api.request_withdrawal",
        "api.request_hold",
        "api.request_capture",
        "api.request_release",
        "api.create_standing_order",
        "api.pause_standing_order",
        "api.resume_standing_order",
        "api.cancel_standing_order",
        "api.request_overdraft_limit",
        "api.request_debit_block",
        "api.request_credit_block",
        "api.request_unblock",
        "api.request_daily_limit",
        "api.create_fx_quote",
        "api.create_conversion",
    }
