"""Views of the dev blueprint: read the console mail outbox (never in production)."""

from __future__ import annotations

from flask import abort
from werkzeug.wrappers import Response

from vaulta import mail
from vaulta.dev import bp
from vaulta.web import render


@bp.route("/outbox")
def outbox() -> Response:
    """Mail the console backend kept, newest first; 404 unless that backend is in use."""
    if not mail.outbox_available():
        abort(404)
    return render("dev/outbox.html", messages=mail.outbox())
