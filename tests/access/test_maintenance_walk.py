"""Every route again, with maintenance mode on: each GET answers as it does normally (reads
keep working, nothing answers 503 or 500), and each state-changing route answers 503 with
Retry-After before anything else runs, to anyone and for any object id (so it tells nothing
about either) — sign-out excepted, which still signs out."""

from __future__ import annotations

from flask import Flask

from tests.access.conftest import World
from tests.access.test_route_walk import (  # noqa: F401 - the same endpoints, parametrized
    MAY_REDIRECT,
    ROLES,
    access_of,
    expected,
    pytest_generate_tests,
    url_for_rule,
)
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.services import maintenance

OPEN_DURING_MAINTENANCE = {"auth.logout"}
# GETs that must write an audit event to answer (the audit chain's export, evidence handed
# to an auditor): while nothing can be recorded they answer 503 like a write.
AUDITED_DOWNLOADS = {"admin.audit_export", "exports.download"}


def test_route_answers_each_role_during_maintenance(
    app: Flask, client: WebClient, world: World, endpoint: str
) -> None:
    maintenance.turn_on(db.engine, "Walking every route", "tests")
    access = access_of(endpoint)
    for rule in app.url_map.iter_rules(endpoint):
        url = url_for_rule(rule, world)
        methods = (rule.methods or set()) - {"HEAD", "OPTIONS"}
        method = "GET" if "GET" in methods else "POST" if "POST" in methods else min(methods)
        for role in ROLES:
            client.delete_cookie("session")
            user = world.user(role)
            if user is not None:
                client.sign_in(user)
            if method in ("GET", "POST"):
                response = client.get(url) if method == "GET" else client.post_form(url, {})
            else:  # PATCH, DELETE (admins' JSON): the token in the header
                headers = {"X-CSRFToken": client.csrf_token()}
                response = client.open(url, method=method, headers=headers)
            response.close()
            got, want, where = (
                response.status_code,
                expected(access, role, endpoint),
                f"{url} as {role}",
            )
            if method == "GET" and endpoint in AUDITED_DOWNLOADS and want == "ok":
                assert got == 503, f"GET {where}: {got}"
                assert int(response.headers["Retry-After"]) > 0
            elif method == "GET":
                ok = {200, 302} if endpoint in MAY_REDIRECT else {200}
                assert got in (ok if want == "ok" else want), f"GET {where}: {got}"
            elif endpoint in OPEN_DURING_MAINTENANCE:
                assert got == 302, f"{method} {where}: {got}"
            else:
                assert got == 503, f"{method} {where}: {got}"
                assert int(response.headers["Retry-After"]) > 0
