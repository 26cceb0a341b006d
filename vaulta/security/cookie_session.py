"""Flask's signed-cookie sessions, with the signing serializer built once per set of keys.

Flask's ``SecureCookieSessionInterface`` builds a new ``URLSafeTimedSerializer`` for every
request (its constructor even serialises an empty dict to learn whether the serializer
makes text): about 1% of a light page. The serializer keeps no per-request state, so one
per combination of ``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS`` is reused; changing either
(key rotation) makes a new one. Everything else, the cookie itself included, is Flask's.
"""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

MAX_KEY_SETS = 8  # an app rotates its key rarely; past this, serializers are not kept


class CookieSessionInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._serializers: dict[tuple[object, ...], URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            if serializer is not None and len(self._serializers) < MAX_KEY_SETS:
                self._serializers[keys] = serializer
        return serializer
