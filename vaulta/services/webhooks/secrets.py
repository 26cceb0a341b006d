"""Endpoint signing secrets: made, shown once, kept encrypted.

The server signs every message with the endpoint's secret (HMAC-SHA256), so it must be able
to read it back: a one-way hash (as for API keys) cannot sign. Secrets are kept encrypted
with Fernet (AES-128-CBC + HMAC) under a key derived from ``WEBHOOK_SECRETS_KEY``, or from
``SECRET_KEY`` when that is unset; ``SECRET_KEY_FALLBACKS`` still decrypt during a key
rotation (docs/security.md "Webhook secrets").
"""

from __future__ import annotations

import base64
import secrets as random

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

PREFIX = "whsec_"
SECRET_BYTES = 32
_INFO = b"vaulta webhook endpoint secrets v1"


def new_secret() -> str:
    """``whsec_`` and 32 random bytes in base64 (the Standard Webhooks form)."""
    return PREFIX + base64.b64encode(random.token_bytes(SECRET_BYTES)).decode("ascii")


def signing_key(secret: str) -> bytes:
    """The HMAC key: the bytes after ``whsec_``."""
    return base64.b64decode(secret.removeprefix(PREFIX))


def _fernet_key(material: str | bytes) -> bytes:
    raw = material.encode("utf-8") if isinstance(material, str) else material
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(raw)
    return base64.urlsafe_b64encode(derived)


def _fernet() -> MultiFernet:
    config = current_app.config
    primary = config.get("WEBHOOK_SECRETS_KEY") or config["SECRET_KEY"]
    keys = [primary, *(config.get("SECRET_KEY_FALLBACKS") or ())]
    return MultiFernet([Fernet(_fernet_key(key)) for key in keys])


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode("ascii")).decode("ascii")


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode("ascii")).decode("ascii")
