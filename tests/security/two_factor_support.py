"""Test helpers for the second factor: read a mailed sign-in code from the console outbox and
finish a form sign-in that stopped at /login/second-factor."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from vaulta import mail

SECOND_FACTOR_URL = "/login/second-factor"
LOGIN_CODE_SUBJECT = "Your VAULTA sign-in code"


def mailed_code(email: str, subject: str = LOGIN_CODE_SUBJECT) -> str:
    """The code in the newest message to ``email`` with ``subject`` (needs an app context)."""
    for message in mail.outbox(limit=200):
        if message["to"] == email and message["subject"] == subject:
            found = re.search(r"\b(\d{6})\b", message["body"])
            assert found is not None, message["body"]
            return found.group(1)
    raise AssertionError(f"no {subject!r} mail to {email}")


def finish_second_factor(client: FlaskClient, response: Any, email: str) -> Any:
    """When a sign-in answered with the second step, enter the mailed code; else pass
    ``response`` through."""
    if response.status_code != 302 or response.location != SECOND_FACTOR_URL:
        return response
    return client.post_form(SECOND_FACTOR_URL, {"code": mailed_code(email)})  # type: ignore[attr-defined]
