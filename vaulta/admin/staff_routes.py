"""Staff logins: asking for a role to be granted or removed, and for a staff API key.

Each is a change request (vaulta/services/changes/identity_actions.py) that another person
approves; the page says so and links to it. A staff key is shown here once, to the admin who
asked for it: it works only once its request is approved.
"""

from __future__ import annotations

from flask import flash, url_for
from werkzeug.wrappers import Response

from vaulta.admin import bp
from vaulta.admin.forms import RoleForm, StaffKeyForm
from vaulta.auth.access import acting_user, require_permission
from vaulta.services.changes import change_requests, identity_actions
from vaulta.services.errors import DomainError, NotFound
from vaulta.services.identity import roles as staff_roles
from vaulta.web import awaiting_approval, redirect_to, refusal, render


def _staff_page() -> str:
    return url_for("admin.staff")


def _role_request(user_id: int, action: str) -> Response:
    form = RoleForm()
    if not form.validate_on_submit():
        flash("Choose one of the staff roles.", "error")
        return redirect_to(_staff_page())
    try:
        made = change_requests.submit(
            action, {"user_id": user_id, "role": form.role.data}, actor=acting_user()
        )
    except NotFound:
        raise
    except DomainError as err:
        flash(refusal(err), "error")
    else:
        flash(awaiting_approval(made), "success")
    return redirect_to(_staff_page())


@bp.post("/staff/<int:user_id>/roles/grant")
@require_permission("roles.manage")
def grant_role(user_id: int) -> Response:
    """Ask for a role to be given to a staff login (never one's own)."""
    return _role_request(user_id, "role.grant")


@bp.post("/staff/<int:user_id>/roles/revoke")
@require_permission("roles.manage")
def revoke_role(user_id: int) -> Response:
    """Ask for a role to be taken from a staff login (never one's own)."""
    return _role_request(user_id, "role.revoke")


@bp.post("/staff/<int:user_id>/api-keys")
@require_permission("api_keys.manage")
def request_staff_key(user_id: int) -> Response:
    """Ask for an API key for a staff login: the key is shown once, on this answer."""
    form = StaffKeyForm()
    if not form.validate_on_submit():
        flash("Name the key and give at least one scope.", "error")
        return redirect_to(_staff_page())
    try:
        made, raw = identity_actions.request_staff_key(
            user_id, form.name.data or "", (form.scopes.data or "").split(), actor=acting_user()
        )
    except NotFound:
        raise
    except DomainError as err:
        flash(err.message, "error")
        return redirect_to(_staff_page())
    owner = next(m for m in staff_roles.staff_logins() if m.id == user_id)
    return render(
        "admin/staff_key.html",
        raw_key=raw,
        owner=owner,
        made=made,
    )
