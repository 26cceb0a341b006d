"""Mail backends: the console outbox (never logging the body) and SMTP with STARTTLS."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask

from vaulta import mail


def test_console_keeps_the_message_and_logs_only_recipient_and_subject(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="vaulta.mail"):
        mail.send("a@example.test", "First", "secret body 123456")
        mail.send("b@example.test", "Second", "another body")
    assert [m["subject"] for m in mail.outbox()] == ["Second", "First"]
    assert mail.outbox()[1]["body"] == "secret body 123456"
    assert "mail to a@example.test: First" in caplog.text
    assert "123456" not in caplog.text


class FakeSMTP:
    sent: list[Any] = []
    calls: list[str] = []

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.calls.append(f"connect {host}:{port}")

    def __enter__(self) -> FakeSMTP:
        return self

    def __exit__(self, *exc: object) -> None:
        self.calls.append("quit")

    def starttls(self) -> None:
        self.calls.append("starttls")

    def login(self, user: str, password: str) -> None:
        self.calls.append(f"login {user}")

    def send_message(self, message: Any) -> None:
        self.sent.append(message)


def test_smtp_sends_with_starttls_and_login(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    FakeSMTP.sent, FakeSMTP.calls = [], []
    app.config.update(
        MAIL_BACKEND="smtp", SMTP_HOST="mail.test", SMTP_PORT=2525, SMTP_USERNAME="bank"
    )
    mail.send("a@example.test", "Hello", "Body")
    assert FakeSMTP.calls == ["connect mail.test:2525", "starttls", "login bank", "quit"]
    assert FakeSMTP.sent[0]["To"] == "a@example.test"
    assert FakeSMTP.sent[0].get_content().strip() == "Body"
    assert mail.outbox() == []


def test_outbox_is_for_development_only(app: Flask) -> None:
    assert mail.outbox_available()
    app.config["MAIL_BACKEND"] = "smtp"
    assert not mail.outbox_available()
    app.config.update(MAIL_BACKEND="console", NAME="production")
    assert not mail.outbox_available()


def test_unknown_backend_is_refused(app: Flask) -> None:
    app.config["MAIL_BACKEND"] = "pigeon"
    with pytest.raises(RuntimeError, match="MAIL_BACKEND"):
        mail.send("a@example.test", "Hello", "Body")
