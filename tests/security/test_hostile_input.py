"""Hostile input gets a clear 4xx, never a 500 (vaulta/security/input.py): control
characters in paths and fields, what multi-line fields may hold, and bodies larger than
MAX_CONTENT_LENGTH (413 as a page, an htmx partial or JSON)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.test import encode_multipart

from tests import factories
from tests.change_steps import approve_newest
from tests.webclient import WebClient
from vaulta import create_app
from vaulta.extensions import db
from vaulta.models import Account, Customer, User

TOO_LARGE = 1024 * 1024 + 1


@pytest.fixture
def account(customer_user: User) -> Account:
    return factories.make_account(factories.customer_of(customer_user), "EUR", 10_000)


@pytest.mark.parametrize("path", ["/accounts/%00", "/accounts/12%00/statement", "/x%07y"])
def test_a_control_character_in_the_path_is_a_400_page(
    customer_client: WebClient, path: str
) -> None:
    response = customer_client.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "<html" in html
    assert "The address contains a control character (U+" in html


def test_a_control_character_in_an_api_path_is_a_400_json_error(client: WebClient) -> None:
    response = client.get("/api/v1/accounts/%00")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "control_character"


@pytest.mark.parametrize(
    "char", ["\x00", "\x08", "\x0b", "\x1b", "\x7f", "\x85", "\x9f"], ids=lambda c: hex(ord(c))
)
def test_c0_del_and_c1_controls_are_refused_in_a_search_box(
    teller_client: WebClient, char: str
) -> None:
    response = teller_client.htmx("GET", "/admin/customers/", query_string={"q": f"An{char}n"})
    assert response.status_code == 400
    assert f"U+{ord(char):04X}" in response.get_data(as_text=True)
    assert response.headers["HX-Retarget"] == "#messages"


def test_a_multi_line_field_keeps_its_line_breaks_and_tabs(
    teller_client: WebClient, approver: User
) -> None:
    address = "1 Main Street\r\nFlat 2\tBack door\nSpringfield"
    response = teller_client.post_form(
        "/admin/customers/new", {"full_name": "Lin Lines", "address": address}
    )
    assert response.status_code == 302
    approve_newest(approver)  # the customer exists once the request is approved
    stored = db.session.scalar(sa.select(Customer).where(Customer.full_name == "Lin Lines"))
    assert stored is not None
    assert stored.address is not None
    assert "\n" in stored.address
    assert "\t" in stored.address


def test_a_form_field_name_may_not_hold_even_a_line_break(teller_client: WebClient) -> None:
    response = teller_client.post_form("/admin/customers/new", {"full_name": "A", "x\ny": "1"})
    assert response.status_code == 400
    assert "A field name contains a control character (U+000A)" in response.get_data(as_text=True)


def test_a_control_character_in_a_file_upload_name_is_refused(customer_client: WebClient) -> None:
    data = {
        "csrf_token": customer_client.csrf_token(),
        "name": "CI",
        "upload": (io.BytesIO(b"x"), "a\x00.txt"),
    }
    response = customer_client.post(
        "/settings/api-keys", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert "control character" in response.get_data(as_text=True)


# --- MAX_CONTENT_LENGTH -------------------------------------------------------------------


def test_a_form_larger_than_the_limit_is_a_413_page(client: WebClient) -> None:
    response = client.post(
        "/login",
        data=b"email=" + b"a" * TOO_LARGE,
        content_type="application/x-www-form-urlencoded",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "<html" in html
    assert "Request too large" in html
    assert "at most 1,048,576 bytes" in html


def test_an_htmx_request_larger_than_the_limit_gets_the_413_partial(
    teller_client: WebClient,
) -> None:
    response = teller_client.htmx(
        "POST", "/admin/customers/new", data={"full_name": "x" * TOO_LARGE}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "<html" not in html
    assert "too large" in html
    assert response.headers["HX-Retarget"] == "#messages"


def test_a_multipart_body_larger_than_the_limit_is_a_413(customer_client: WebClient) -> None:
    # Encoded here, in memory: the test client would spool a body this large to a
    # temporary file that nothing reads (and so nothing closes) once the app answers 413.
    boundary, body = encode_multipart(
        {"csrf_token": customer_client.csrf_token(), "name": "CI", "note": "x" * TOO_LARGE}
    )
    response = customer_client.post(
        "/settings/api-keys",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_a_json_body_larger_than_the_limit_is_a_413_json_error(client: WebClient) -> None:
    body = b'{"reference": "' + b"x" * TOO_LARGE + b'"}'
    response = client.post("/api/v1/payments", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_large"
    assert "1,048,576 bytes" in response.json["error"]["message"]


def test_max_content_length_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, sqlite_template: object, tmp_path: Path
) -> None:
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "2048")
    monkeypatch.setenv("JSON_MAX_DEPTH", "4")
    url = sqlite_template.copy_to(tmp_path)  # type: ignore[attr-defined]
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    assert app.config["MAX_CONTENT_LENGTH"] == 2048
    assert app.config["JSON_MAX_DEPTH"] == 4
    client = app.test_client()
    assert client.post("/login", data={"email": "x" * 3000}).status_code == 413
    deep = client.post("/api/v1/payments", json={"a": [[[[1]]]]})
    assert deep.status_code == 400
    assert deep.json["error"]["code"] == "json_too_deep"


def test_the_default_limit_is_one_mebibyte(app: Flask) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert app.config["JSON_MAX_DEPTH"] == 32
