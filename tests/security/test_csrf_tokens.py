"""The page's CSRF token: signed once per session, one token per page, always accepted."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask

from tests.webclient import WebClient
from vaulta.models import User
from vaulta.security import csrf_tokens

TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def empty_memo() -> Iterator[None]:
    csrf_tokens._signed.cache_clear()
    yield
    csrf_tokens._signed.cache_clear()


def _page_tokens(client: WebClient, path: str = "/admin/approvals/") -> set[str]:
    html = client.get(path).get_data(as_text=True)
    tokens = set(TOKEN_RE.findall(html))
    assert len(tokens) == 1, "every form and the htmx header carry the same token"
    assert f'"X-CSRFToken": "{next(iter(tokens))}"' in html
    return tokens


def test_a_session_token_is_signed_once_and_reused(admin_client: WebClient) -> None:
    _page_tokens(admin_client)  # a new session: Flask-WTF makes its secret and signs it
    assert csrf_tokens._signed.cache_info().misses == 0
    second = _page_tokens(admin_client, "/admin/customers/")
    assert _page_tokens(admin_client) == second
    info = csrf_tokens._signed.cache_info()
    assert (info.misses, info.hits) == (1, 1)


def test_the_reused_token_is_accepted(admin_client: WebClient) -> None:
    _page_tokens(admin_client)
    (token,) = _page_tokens(admin_client)  # the memo's answer
    assert csrf_tokens._signed.cache_info().misses == 1
    response = admin_client.post("/admin/customers/new", data={"csrf_token": token})
    assert response.status_code == 422  # the form re-rendered with field errors: CSRF passed
    assert "security token" not in response.get_data(as_text=True)
    refused = admin_client.post("/admin/customers/new", data={"csrf_token": token + "x"})
    assert refused.status_code == 400


def test_each_session_has_its_own_token(
    admin_client: WebClient, approver: User, app: Flask
) -> None:
    other = app.test_client()
    assert isinstance(other, WebClient)
    other.sign_in(approver)
    for _ in range(2):
        assert _page_tokens(admin_client).isdisjoint(_page_tokens(other))


def test_with_a_time_limit_every_request_signs_afresh(
    admin_client: WebClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A time limit puts a timestamp that matters into the token: no memo then."""
    monkeypatch.setitem(app.config, "WTF_CSRF_TIME_LIMIT", 3600)
    _page_tokens(admin_client)
    (token,) = _page_tokens(admin_client)
    assert csrf_tokens._signed.cache_info().misses == 0
    response = admin_client.post("/admin/customers/new", data={"csrf_token": token})
    assert response.status_code == 422
