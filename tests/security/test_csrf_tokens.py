"""The page's CSRF token (Flask-WTF's ``csrf_token()``): one per page, valid for the session,
its own for each session, and a new one after sign-in."""

from __future__ import annotations

import re

from flask import Flask

from tests.factories import PASSWORD
from tests.webclient import WebClient, web_client
from vaulta.models import User

TOKEN_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _page_token(client: WebClient, path: str = "/admin/approvals/") -> str:
    html = client.get(path).get_data(as_text=True)
    tokens = set(TOKEN_RE.findall(html))
    assert len(tokens) == 1, "every form and the htmx header carry the same token"
    (token,) = tokens
    assert f'"X-CSRFToken": "{token}"' in html
    return token


def test_a_pages_token_is_accepted_later_in_the_session(teller_client: WebClient) -> None:
    token = _page_token(teller_client)
    _page_token(teller_client, "/admin/customers/")
    response = teller_client.post("/admin/customers/new", data={"csrf_token": token})
    assert response.status_code == 422  # the form re-rendered with field errors: CSRF passed
    assert "security token" not in response.get_data(as_text=True)
    refused = teller_client.post("/admin/customers/new", data={"csrf_token": token + "x"})
    assert refused.status_code == 400


def test_each_session_has_its_own_token(
    teller_client: WebClient, approver: User, app: Flask
) -> None:
    other = web_client(app)
    other.sign_in(approver)
    theirs = _page_token(other)
    assert _page_token(teller_client) != theirs
    response = teller_client.post("/admin/customers/new", data={"csrf_token": theirs})
    assert response.status_code == 400


def test_sign_in_starts_a_new_token(client: WebClient, customer_user: User) -> None:
    found = TOKEN_RE.search(client.get("/login").get_data(as_text=True))
    assert found is not None
    before = found.group(1)
    form = {"csrf_token": before, "email": customer_user.email, "password": PASSWORD}
    assert client.post("/login", data=form).status_code == 302
    assert _page_token(client, "/settings") != before
    response = client.post("/settings/sign-out-everywhere", data={"csrf_token": before})
    assert response.status_code == 400
