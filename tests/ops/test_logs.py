"""Request ids and JSON log lines: the id is taken from a sane X-Request-ID or made, echoed,
on every log record of the request, and in the details of the audit events it records."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from flask import Flask

from tests.helpers import audit_events
from tests.services.payments.factories import make_payment
from tests.webclient import WebClient
from vaulta import create_app, logs
from vaulta.models import Account, User
from vaulta.services import audit


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the JSON handler writes, from the root logger at INFO."""
    stream = io.StringIO()
    handler = logs.json_handler(stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_request_id_is_taken_made_and_echoed(client: WebClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a:42"})
    assert given.headers["X-Request-ID"] == "lb-7f3a:42"
    for insane in ("", "has space", "x" * 129, "<script>", "é"):
        made = client.get("/healthz", headers={"X-Request-ID": insane})
        assert made.headers["X-Request-ID"] != insane
        assert len(made.headers["X-Request-ID"]) == 32
    first = client.get("/healthz").headers["X-Request-ID"]
    assert client.get("/healthz").headers["X-Request-ID"] != first
    assert audit.request_id.get() is None  # reset once each request ends


def test_json_log_line_and_audit_event_carry_the_request_id(
    app: Flask,
    approver_client: WebClient,
    customer_user: User,
    source: Account,
    json_lines: io.StringIO,
) -> None:
    @app.after_request
    def _log(response: object) -> object:
        logging.getLogger("vaulta.test").info("answered", extra={"answer": "yes"})
        return response

    payment = make_payment(customer_user, source)
    url = f"/admin/approvals/{payment.id}/reject"
    response = approver_client.htmx(
        "POST", url, data={"reason": "Unknown payee"}, headers={"X-Request-ID": "req-4711"}
    )
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "req-4711"
    lines = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    [line] = [x for x in lines if x.get("logger") == "vaulta.test"]
    assert line["request_id"] == "req-4711"
    assert line["message"] == "answered"
    assert line["level"] == "INFO"
    assert line["answer"] == "yes"
    assert "time" in line
    [rejected] = [e for e in audit_events("payment", payment.id) if e.action == "payment.reject"]
    assert rejected.details == {"reason": "Unknown payee", "request_id": "req-4711"}
    created = audit_events("payment", payment.id)[0]  # recorded outside a request
    assert "request_id" not in created.details


def test_healthz_does_not_log_alembic_chatter(client: WebClient, json_lines: io.StringIO) -> None:
    assert client.get("/healthz").status_code == 200
    assert "alembic" not in json_lines.getvalue()
    logging.getLogger("alembic.runtime.migration").info("Running upgrade a -> b")
    assert "Running upgrade" in json_lines.getvalue()  # outside a request: kept


def test_json_format_is_production_default_and_installed_once(database_url: str) -> None:
    from vaulta.config import DevelopmentConfig, ProductionConfig

    assert ProductionConfig.LOG_FORMAT == "json"
    assert DevelopmentConfig.LOG_FORMAT == "text"
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    try:
        for _ in range(2):
            create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, "LOG_FORMAT": "json"})
        installed = [h for h in root.handlers if h.get_name() == "vaulta-json"]
        assert len(installed) == 1
    finally:
        for handler in list(root.handlers):
            if handler not in before:
                root.removeHandler(handler)
        for handler in before:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(level)


def test_an_unknown_log_format_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from vaulta.config import ConfigError, apply_environment

    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        apply_environment({}, "/tmp/instance")  # noqa: S108 - never written
