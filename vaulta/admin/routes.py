"""The admin landing page and the audit log."""

from __future__ import annotations

from flask import current_app, request
from werkzeug.wrappers import Response

from vaulta.admin import bp
from vaulta.admin.forms import AuditSearchForm
from vaulta.auth.access import require_permission
from vaulta.services.audit import audit_queries
from vaulta.services.errors import DomainError
from vaulta.services.reports import overview
from vaulta.web import render


@bp.route("/")
@require_permission("staff.dashboard")
def index() -> Response:
    return render("admin/index.html", summary=overview.admin_summary())


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
