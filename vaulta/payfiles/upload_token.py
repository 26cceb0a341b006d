"""The preview's confirmation: the uploaded file travels back signed, never re-uploaded.

The preview page carries the file's text, its name, the account and the uploader in one
token signed with the app's SECRET_KEY (itsdangerous, compressed, a salt of its own),
valid for ``MAX_AGE_SECONDS``. Submitting posts the token: the request is made from exactly
the file that was previewed (checked again, line by line, by the action's ``prepare``),
for that account, by that person. The token's one-time key is the change request's
idempotency key, so a double submit makes one request.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer

SALT = "vaulta.payfiles.upload"
MAX_AGE_SECONDS = 30 * 60
EXPIRED = "This preview has expired or is not valid: upload the file again."


class UploadInvalid(ValueError):
    """The token is forged, expired, or was made for another account or person."""


@dataclass(frozen=True)
class Upload:
    account_id: int
    actor_id: int
    file_name: str
    content: str
    key: str


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)  # type: ignore[arg-type]


def sign(account_id: int, actor_id: int, file_name: str, content: str) -> str:
    key = secrets.token_urlsafe(24)
    return str(_serializer().dumps([account_id, actor_id, file_name, content, key]))


def load(token: str, *, account_id: int, actor_id: int) -> Upload:
    try:
        values = _serializer().loads(token or "", max_age=MAX_AGE_SECONDS)
        upload = Upload(*values)
    except (BadData, TypeError):
        raise UploadInvalid(EXPIRED) from None
    if (upload.account_id, upload.actor_id) != (account_id, actor_id):
        raise UploadInvalid(EXPIRED)
    return upload
