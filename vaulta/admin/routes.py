"""The admin landing page."""

from __future__ import annotations

from werkzeug.wrappers import Response

from vaulta.admin import bp
from vaulta.auth.session import admin_required
from vaulta.services import overview
from vaulta.web import render


@bp.route("/")
@admin_required
def index() -> Response:
    return render("admin/index.html", summary=overview.admin_summary())
