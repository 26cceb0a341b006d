"""Hostile input gets a 400, never a 500 or a stored NUL: a control character anywhere in a
request is refused before any view reads it (vaulta/security/input.py).

Two walks: every state-changing route (``app.url_map``) with a control character in a
form value, a form name, a query value and a query name; and every form that the pages
actually render (crawled as the role that sees them: login, password reset, payments,
customers, deposits, the search boxes …), submitted with a NUL byte in each of its fields.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from flask import Flask

from tests.access.conftest import World
from tests.access.test_csrf_walk import state_changing_rules
from tests.access.test_route_walk import (
    ADMIN,
    ADMIN_API,
    API,
    OWN_EXPORT,
    PUBLIC,
    access_of,
    first_role_for,
    url_for_rule,
)
from tests.webclient import WebClient

NUL = "a\x00b"
POSITIONS = ("form value", "form name", "query value", "query name")
TEXT_TYPES = {"text", "email", "password", "search", "tel", "url", "number", "hidden", "date"}
# Forms the issue found answering 500, by (endpoint path, field): the crawl must reach them.
REPORTED = {
    ("/login", "email"),
    ("/login", "password"),
    ("/login/reset", "email"),
    ("/payments/new", "reference"),
    ("/payments/new", "amount"),
    ("/admin/customers/new", "full_name"),
    ("/admin/customers/", "q"),
    ("/admin/transactions/", "text"),
    ("/admin/approvals/", "customer"),
    ("/admin/audit", "actor"),
    ("/admin/accounts/{account}/deposit", "deposit-description"),
}


def role_for(endpoint: str) -> str:
    access = access_of(endpoint)
    if access == PUBLIC:
        return "anonymous"
    if access == ADMIN_API:
        return "admin"
    if access == OWN_EXPORT:
        return "auditor"  # the world's export is the auditor's
    return first_role_for(endpoint) if access == ADMIN else "customer"


def assert_refused(response: object, where: str) -> None:
    status = response.status_code  # type: ignore[attr-defined]
    text = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert status == 400, f"{where}: {status}"
    assert "contains a control character (U+" in text, where


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "endpoint_method" in metafunc.fixturenames:
        from vaulta import create_app

        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
        metafunc.parametrize("endpoint_method", state_changing_rules(app), ids=str)


def test_every_state_changing_route_refuses_a_control_character(
    app: Flask, client: WebClient, world: World, endpoint_method: tuple[str, str]
) -> None:
    endpoint, method = endpoint_method
    [rule] = [r for r in app.url_map.iter_rules(endpoint) if method in (r.methods or ())]
    user = world.user(role_for(endpoint))
    if user is not None:
        client.sign_in(user)
    url = url_for_rule(rule, world)
    for position, char in zip(POSITIONS, ("\x00", "\x01", "\x7f", "\x9b"), strict=True):
        data = {"csrf_token": client.csrf_token(), "note": "ok"}
        query: dict[str, str] = {}
        if position == "form value":
            data["note"] = f"a{char}b"
        elif position == "form name":
            data[f"no{char}te"] = "ok"
        elif position == "query value":
            query["note"] = f"a{char}b"
        else:
            query[f"no{char}te"] = "ok"
        for headers in ({}, {"HX-Request": "true"}):
            response = client.open(
                url, method=method, data=data, query_string=query, headers=headers
            )
            assert_refused(response, f"{method} {url} ({position}, {headers})")
            if headers and not url.startswith("/api/"):  # the API answers JSON to all
                assert response.headers["HX-Retarget"] == "#messages"
            response.close()


class FormParser(HTMLParser):
    """The forms of a page: method, action and their fields (name, type, value)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            method = a.get("method", "get").lower()
            self.forms.append({"method": method, "action": a.get("action", ""), "fields": []})
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button"):
                return
            self.forms[-1]["fields"].append((a["name"], kind, a.get("value", "")))
        elif tag == "textarea" and a.get("name"):
            self.forms[-1]["fields"].append((a["name"], "textarea", ""))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
        elif tag == "option" and self._select:
            self.forms[-1]["fields"].append((self._select, "select", a.get("value", "")))
            self._select = None  # the first option: the value a browser would send

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def test_every_rendered_form_refuses_a_nul_byte_in_each_field(
    app: Flask, client: WebClient, world: World
) -> None:
    submitted: set[tuple[str, str]] = set()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        endpoint = rule.endpoint
        if endpoint == "static" or "GET" not in (rule.methods or ()):
            continue
        if access_of(endpoint) == API or rule.rule.endswith(".csv"):
            continue
        client.delete_cookie("session")
        user = world.user(role_for(endpoint))
        if user is not None:
            client.sign_in(user)
        page = client.get(url_for_rule(rule, world))
        if page.status_code != 200 or page.mimetype != "text/html":
            page.close()  # a download (XLSX, PDF, zip) streams from a file the close ends
            continue
        parser = FormParser()
        parser.feed(page.get_data(as_text=True))
        for form in parser.forms:
            action = urlsplit(form["action"]).path or urlsplit(page.request.url).path
            fields = [(n, k, v) for n, k, v in form["fields"] if n != "csrf_token"]
            for name, kind, _ in fields:
                if kind not in TEXT_TYPES | {"textarea"}:
                    continue
                values = {n: v for n, _, v in fields} | {name: NUL}
                if form["method"] == "get":
                    response = client.get(action, query_string=values)
                else:
                    response = client.post_form(action, values)
                assert_refused(response, f"{form['method']} {action} field {name}")
                response.close()
                shown = action.replace(f"/{world.account.id}/", "/{account}/")
                submitted.add((shown, name))
    assert submitted >= REPORTED, f"not reached: {sorted(REPORTED - submitted)}"
