"""A Flask test client that can sign in and send CSRF tokens like a browser does."""

from __future__ import annotations

import hashlib
import os
from typing import Any

from flask import Flask, current_app
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from vaulta.extensions import db
from vaulta.models import User


class WebClient(FlaskClient):
    def csrf_token(self) -> str:
        """A valid Flask-WTF token for this client's session (as the page would carry)."""
        with self.session_transaction() as sess:
            raw = sess.setdefault("csrf_token", hashlib.sha1(os.urandom(64)).hexdigest())  # noqa: S324
        serializer = URLSafeTimedSerializer(current_app.secret_key, salt="wtf-csrf-token")
        return str(serializer.dumps(raw))

    def sign_in(self, user: User) -> None:
        """Sign in without the form (the form itself is tested in tests/web/test_auth.py)."""
        with self.session_transaction() as sess:
            sess["_user_id"] = user.session_token
            sess["_fresh"] = True
            sess["_vaulta_2fa"] = True  # second factor passed (vaulta/auth/second_factor.py)

    def post_form(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """POST a form with its CSRF token."""
        return self.post(url, data={**(data or {}), "csrf_token": self.csrf_token()}, **kwargs)

    def open(self, *args: Any, **kwargs: Any) -> Any:
        """Each request runs in its own application context, as in production.

        The test itself holds an app context for service calls; without a fresh one per
        request, ``g`` (where Flask-Login caches the signed-in user) and the database
        session would carry over from one request to the next and hide bugs. The test's own
        session is a separate database client: its transaction ends around each request.
        """
        db.session.commit()  # publish the test's set-up and end its read snapshot
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.commit()  # so the test's next query sees what the request wrote
        return response

    def htmx(self, method: str, url: str, **kwargs: Any) -> Any:
        """An htmx request: HX-Request plus the CSRF header the base template configures."""
        headers = {"HX-Request": "true", "X-CSRFToken": self.csrf_token()}
        headers.update(kwargs.pop("headers", {}))
        return self.open(url, method=method, headers=headers, **kwargs)


def web_client(app: Flask) -> WebClient:
    """A test client of ``app`` (another browser, with cookies of its own)."""
    client = app.test_client()
    assert isinstance(client, WebClient)
    return client
