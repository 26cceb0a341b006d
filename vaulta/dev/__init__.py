"""Development aids: the mail outbox of the console backend (404 unless it is in use)."""

from flask import Blueprint

bp = Blueprint("dev", __name__)

from vaulta.dev import routes  # noqa: E402,F401
