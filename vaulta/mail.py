"""Outgoing mail. ``console`` (development, tests) logs the recipient and subject and keeps
each message as a JSON file in MAIL_OUTBOX_DIR; ``smtp`` sends it (STARTTLS by default).

The body may hold a one-time passcode: it is never logged.
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import time
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from flask import current_app

from vaulta.models import utcnow

log = logging.getLogger(__name__)
CONSOLE, SMTP = "console", "smtp"


def send(to: str, subject: str, body: str) -> None:
    """Send one plain-text message with the configured backend."""
    backend = current_app.config["MAIL_BACKEND"]
    if backend == CONSOLE:
        _to_outbox(to, subject, body)
    elif backend == SMTP:
        _by_smtp(to, subject, body)
    else:
        raise RuntimeError(f"Unknown MAIL_BACKEND {backend!r}: use 'console' or 'smtp'.")


def _outbox_dir() -> Path:
    return Path(current_app.config["MAIL_OUTBOX_DIR"])


def _to_outbox(to: str, subject: str, body: str) -> None:
    directory = _outbox_dir()
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.json"
    message = {"to": to, "subject": subject, "body": body, "sent_at": utcnow().isoformat()}
    temporary = directory / (name + ".tmp")
    temporary.write_text(json.dumps(message), encoding="utf-8")
    os.replace(temporary, directory / name)  # readers never see half a message
    log.info("mail to %s: %s", to, subject)


def _by_smtp(to: str, subject: str, body: str) -> None:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config.get("SMTP_USERNAME"):
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(message)
    log.info("mail to %s: %s", to, subject)


def outbox_available() -> bool:
    """The outbox is a development aid: console backend and never in production."""
    config = current_app.config
    return config["MAIL_BACKEND"] == CONSOLE and config.get("NAME") != "production"


def outbox(limit: int = 50) -> list[dict[str, Any]]:
    """The newest ``limit`` messages of the console outbox, newest first."""
    directory = _outbox_dir()
    if not directory.is_dir():
        return []
    names = sorted((p for p in directory.glob("*.json")), reverse=True)[:limit]
    return [json.loads(p.read_text(encoding="utf-8")) for p in names]
