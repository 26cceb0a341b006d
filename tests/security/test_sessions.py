"""Idle and absolute timeouts (controlled clock) and session revocation: a copied cookie stops
working after "sign out everywhere" and after a password change."""

from __future__ import annotations

from flask import Flask

from tests import factories
from tests.security.conftest import Clock, copy_session
from tests.sign_in import sign_in_with_form
from tests.webclient import WebClient
from vaulta.models import User
from vaulta.security import session_timeouts


def test_activity_within_the_idle_limit_keeps_the_session(
    client: WebClient, admin: User, clock: Clock
) -> None:
    assert sign_in_with_form(client, admin.email).status_code == 302
    for _ in range(4):  # two hours, a request every 29 minutes
        clock.advance(minutes=29)
        assert client.get("/admin/").status_code == 200


def test_idle_timeout_signs_out_with_a_message(
    client: WebClient, admin: User, clock: Clock
) -> None:
    sign_in_with_form(client, admin.email)
    assert client.get("/admin/").status_code == 200
    clock.advance(minutes=31)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.location.startswith("/login")
    login_page = client.get(response.location)
    assert "signed out after 30 minutes without activity" in login_page.text
    clock.advance(minutes=1)
    assert client.get("/admin/").status_code == 302  # stays signed out


def test_absolute_timeout_ends_even_an_active_session(
    client: WebClient, customer_user: User, clock: Clock
) -> None:
    sign_in_with_form(client, customer_user.email)
    for _ in range(35):  # 11 h 40 min of activity every 20 minutes
        clock.advance(minutes=20)
        assert client.get("/").status_code == 200
    clock.advance(minutes=21)  # 12 h 1 min after sign-in
    response = client.get("/")
    assert response.status_code == 302
    assert "12-hour limit" in client.get(response.location).text


def test_the_limits_come_from_the_config(
    app: Flask, client: WebClient, admin: User, clock: Clock
) -> None:
    app.config["SESSION_IDLE_MINUTES"] = 5
    sign_in_with_form(client, admin.email)
    clock.advance(minutes=6)
    assert client.get("/admin/").status_code == 302


def test_an_expired_htmx_request_is_told_to_go_to_the_login_page(
    client: WebClient, admin: User, clock: Clock
) -> None:
    sign_in_with_form(client, admin.email)
    clock.advance(hours=1)
    response = client.htmx("GET", "/settings")
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login")


def test_an_expired_copied_cookie_is_refused_too(
    app: Flask, client: WebClient, admin: User, clock: Clock
) -> None:
    sign_in_with_form(client, admin.email)
    thief = copy_session(client, app)
    assert thief.get("/admin/").status_code == 200
    clock.advance(minutes=45)
    assert thief.get("/admin/").status_code == 302


def test_a_session_without_stamps_starts_its_clock_at_the_first_request(
    admin_client: WebClient, clock: Clock
) -> None:
    assert admin_client.get("/admin/").status_code == 200  # signed in without the form
    with admin_client.session_transaction() as sess:
        assert sess[session_timeouts.LOGIN_AT] == sess[session_timeouts.SEEN_AT] == int(clock.now)
    clock.advance(minutes=31)
    assert admin_client.get("/admin/").status_code == 302


def test_sign_out_everywhere_ends_every_session(
    app: Flask, client: WebClient, customer_user: User
) -> None:
    sign_in_with_form(client, customer_user.email)
    thief = copy_session(client, app)
    assert thief.get("/settings").status_code == 200
    response = client.post_form("/settings/sign-out-everywhere")
    assert response.status_code == 302
    assert response.location == "/login"
    assert "signed out everywhere" in client.get("/login").text
    assert client.get("/settings").status_code == 302
    assert thief.get("/settings").status_code == 302


def test_sign_out_everywhere_is_post_only_with_csrf(admin_client: WebClient) -> None:
    assert admin_client.get("/settings/sign-out-everywhere").status_code == 405
    assert admin_client.post("/settings/sign-out-everywhere").status_code == 400
    assert admin_client.get("/settings").status_code == 200


def test_password_change_ends_other_sessions_but_keeps_this_one(
    app: Flask, client: WebClient, admin: User
) -> None:
    sign_in_with_form(client, admin.email)
    thief = copy_session(client, app)
    new_password = "a long and memorable passphrase of words"
    response = client.post_form(
        "/settings/password",
        {
            "current_password": factories.PASSWORD,
            "new_password": new_password,
            "confirm_password": new_password,
        },
    )
    assert response.status_code == 302
    assert response.location == "/settings"
    assert client.get("/settings").status_code == 200
    assert client.get("/admin/").status_code == 200
    assert thief.get("/admin/").status_code == 302
    # The old password no longer works; the new one does.
    client.post_form("/logout")
    assert sign_in_with_form(client, admin.email).status_code == 422
    assert sign_in_with_form(client, admin.email, new_password).status_code == 302


def test_password_change_keeps_the_original_sign_in_time(
    client: WebClient, admin: User, clock: Clock
) -> None:
    sign_in_with_form(client, admin.email)
    clock.advance(hours=11, minutes=50)
    client.get("/settings")  # a session of 11 h 50 min, active (stamps refreshed above)
    with client.session_transaction() as sess:
        sess[session_timeouts.SEEN_AT] = int(clock.now)
    new_password = "another long passphrase for the test"
    client.post_form(
        "/settings/password",
        {
            "current_password": factories.PASSWORD,
            "new_password": new_password,
            "confirm_password": new_password,
        },
    )
    clock.advance(minutes=15)
    assert client.get("/settings").status_code == 302  # still 12 h after the first sign-in


def test_pages_after_the_first_leave_the_session_alone(
    client: WebClient, admin: User, clock: Clock
) -> None:
    """The first page after sign-in takes the welcome message out of the session and makes
    the CSRF secret; later pages change nothing (no cookie re-signed and re-sent), and the
    token they show works."""
    sign_in_with_form(client, admin.email)
    client.get("/admin/")  # shows the sign-in's welcome message (taken out of the session)
    with client.session_transaction() as saved:
        secret = saved.get("csrf_token")
    assert secret
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "Set-Cookie" not in page.headers
    with client.session_transaction() as saved:
        assert saved.get("csrf_token") == secret
    response = client.post_form("/logout", {})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 302  # signed out: the page's token was valid
