"""The customer landing page: their own accounts and balances."""

from __future__ import annotations

from flask import url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from vaulta.accounts import bp
from vaulta.services import accounts
from vaulta.web import redirect_to, render


@bp.route("/")
@login_required
def index() -> Response:
    if current_user.is_admin:
        return redirect_to(url_for("admin.index"))
    if current_user.customer_id is None:  # pragma: no cover - forbidden by a check constraint
        return render("accounts/index.html", accounts=[])
    return render(
        "accounts/index.html", accounts=accounts.accounts_of_customer(current_user.customer_id)
    )
