"""The back-office landing page, the audit log, the roles and the staff list."""

from __future__ import annotations

from flask import current_app, request
from werkzeug.wrappers import Response

from vaulta.admin import bp
from vaulta.admin.forms import AuditSearchForm
from vaulta.auth.access import acting_user, require_permission
from vaulta.services.audit import audit_queries
from vaulta.services.errors import DomainError
from vaulta.services.identity import permissions
from vaulta.services.identity import roles as staff_roles
from vaulta.services.reports import overview
from vaulta.web import render


@bp.route("/")
@require_permission("staff.dashboard")
def index() -> Response:
    """The bank's figures for those who may read them (not admins: they run the system)."""
    user = acting_user()
    reads = permissions.has_permission(user, "ledger.read")
    return render(
        "admin/index.html",
        summary=overview.admin_summary() if reads else None,
        my_roles=sorted(permissions.roles_of(user)),
    )


@bp.route("/audit")
@require_permission("audit.read")
def audit() -> Response:
    form = AuditSearchForm(formdata=request.args)
    page = None
    status = 200
    if form.validate():
        try:
            page = audit_queries.search(
                actor=form.actor.data,
                action=form.action.data,
                object_type=form.object_type.data,
                object_id=form.object_id.data,
                date_from=form.date_from.data,
                date_to=form.date_to.data,
                before_id=request.args.get("before", type=int),
                limit=current_app.config["PAGE_SIZE"],
            )
        except DomainError as err:
            if err.field is None or err.field not in form:
                raise
            form[err.field].errors.append(err.message)
            status = err.status
    else:
        status = 422
    return render(
        "admin/audit.html",
        "admin/_audit_table.html",
        status=status,
        form=form,
        results=page,
        args=form.query_args(),
        before=request.args.get("before", type=int),
    )


@bp.get("/roles")
@require_permission("roles.read")
def roles() -> Response:
    """Every role and the permissions it grants (the registry, as the code enforces it)."""
    return render(
        "admin/roles.html",
        roles=permissions.role_table(),
        descriptions=permissions.PERMISSIONS,
        mine=permissions.roles_of(acting_user()),
    )


@bp.get("/staff")
@require_permission("users.read")
def staff() -> Response:
    """Staff logins and the roles each holds."""
    return render("admin/staff.html", staff=staff_roles.staff_logins())
