"""Sign-in and sign-out over HTTP: CSRF, no enumeration, no fixation, POST-only logout."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from tests import factories
from tests.sign_in import sign_in_with_form
from tests.webclient import WebClient
from vaulta.models import User
from vaulta.services.identity.users import GENERIC_LOGIN_ERROR


def test_login_page_has_the_fields_and_a_csrf_token(client: WebClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="email"' in html
    assert 'name="password"' in html
    assert re.search(r'name="csrf_token" type="hidden" value="[^"]+"', html)


@pytest.mark.parametrize("role", ["admin", "customer"])
def test_login_lands_on_the_right_home(client: WebClient, app: Flask, role: str) -> None:
    user = factories.make_admin() if role == "admin" else factories.make_customer_login()
    response = sign_in_with_form(client, user.email, factories.PASSWORD)
    assert response.status_code == 302
    assert response.location == ("/admin/" if role == "admin" else "/")
    home = client.get(response.location)
    assert home.status_code == 200
    assert ("Dashboard" if role == "admin" else "My accounts") in home.get_data(as_text=True)


@pytest.mark.parametrize("email", ["admin@example.test", "unknown@example.test"])
def test_one_message_for_unknown_email_or_wrong_password(
    client: WebClient, admin: User, email: str
) -> None:
    response = sign_in_with_form(client, email, "not the password at all")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert GENERIC_LOGIN_ERROR in html
    assert "unknown" not in html.lower().replace("unknown@example.test", "")


def test_login_without_csrf_token_is_refused(client: WebClient, admin: User) -> None:
    response = client.post("/login", data={"email": admin.email, "password": factories.PASSWORD})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_session_is_renewed_at_login(client: WebClient, admin: User) -> None:
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    sign_in_with_form(client, admin.email, factories.PASSWORD)
    with client.session_transaction() as sess:
        assert "planted" not in sess


def test_next_is_followed_only_within_the_site(client: WebClient, admin: User) -> None:
    assert (
        sign_in_with_form(client, admin.email, factories.PASSWORD, "/admin/").location == "/admin/"
    )
    client.post_form("/logout")
    response = sign_in_with_form(client, admin.email, factories.PASSWORD, "https://evil.example/")
    assert response.location == "/admin/"


def test_logout_is_post_only_and_needs_csrf(client: WebClient, admin: User) -> None:
    client.sign_in(admin)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    response = client.post_form("/logout")
    assert response.status_code == 302
    assert response.location == "/login"
    assert client.get("/admin/").status_code == 302


def test_a_copied_cookie_stops_working_after_logout(app: Flask, admin: User) -> None:
    first, second = app.test_client(), app.test_client()
    first.sign_in(admin)
    second.sign_in(admin)  # the same session identifier, as a copied cookie would carry
    assert second.get("/admin/").status_code == 200
    first.post_form("/logout")
    assert second.get("/admin/").status_code == 302


def test_htmx_requests_are_sent_to_login_with_a_redirect_header(client: WebClient) -> None:
    response = client.htmx("GET", "/admin/")
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login")
