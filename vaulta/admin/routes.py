"""The back-office landing page, the audit log, the roles and the staff list."""

from __future__ import annotations

import tempfile
import zipfile
from datetime import timedelta
from typing import Any

from flask import current_app, request, send_file
from werkzeug.wrappers import Response

from vaulta.admin import bp, dashboard
from vaulta.admin.forms import AuditExportForm, AuditSearchForm
from vaulta.auth.access import acting_user, require_permission
from vaulta.exports import routes as exports
from vaulta.exports.kinds import KINDS, audit_filters_json
from vaulta.forms import show_error
from vaulta.models import utcnow
from vaulta.models.export_job import EXPORT_AUDIT_LOG
from vaulta.models.user import STAFF_ROLES
from vaulta.services.audit import audit_queries, export
from vaulta.services.errors import DomainError, InvalidInput
from vaulta.services.identity import permissions
from vaulta.services.identity import roles as staff_roles
from vaulta.services.reports import overview
from vaulta.services.webhooks import backlog
from vaulta.web import render


@bp.route("/")
@require_permission("staff.dashboard")
def index() -> Response:
    """Counters, charts (each with its table) and the latest transactions for the roles
    that read the bank (teller, approver, auditor; not admins: they run the system), and
    webhook endpoints in trouble for those who see webhooks (admin, auditor);
    ``?days=90`` widens the payments charts from 30 days."""
    user = acting_user()
    figures: dict[str, Any] = {"summary": None}
    if permissions.has_permission(user, "ledger.read"):
        window = 90 if request.args.get("days") == "90" else 30
        figures = {"summary": overview.admin_summary(), **dashboard.dashboard_context(window)}
    if permissions.has_permission(user, "webhooks.read"):  # admins, auditors
        figures["webhooks"] = backlog.webhook_health()
    return render(
        "admin/index.html",
        my_roles=sorted(permissions.roles_of(user)),
        **figures,
    )


@bp.route("/audit")
@require_permission("audit.read")
def audit() -> Response:
    form = AuditSearchForm.from_query()
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
                before_id=form.before_id,
                limit=current_app.config["PAGE_SIZE"],
            )
        except DomainError as err:
            show_error(form, err, required=True)
            status = err.status
    else:
        status = 422
    return render(
        "admin/audit.html",
        "admin/_audit_table.html",
        status=status,
        export_form=AuditExportForm(formdata=None, prefix="export"),
        **form.page_context(page),
    )


@bp.route("/audit/events.<any(csv, xlsx):kind>")
@require_permission("audit.export")
def audit_events(kind: str) -> Response:
    """The filtered audit log (every matching event, newest first) as CSV or XLSX: streamed
    when at most ``EXPORT_INLINE_MAX_ROWS``, else prepared in the background."""
    form = AuditSearchForm.from_query()
    if not form.validate():
        raise InvalidInput("Correct the filters of the audit log first.")
    filters = audit_filters_json(
        actor=form.actor.data,
        action=form.action.data,
        object_type=form.object_type.data,
        object_id=form.object_id.data,
        date_from=form.date_from.data,
        date_to=form.date_to.data,
    )
    return exports.respond(KINDS[EXPORT_AUDIT_LOG], kind, filters)


@bp.route("/audit/export.zip")
@require_permission("audit.export")
def audit_export() -> Response:
    """The audit chain of a period as a zip: JSON Lines plus its manifest (the same files as
    ``flask vaulta export-audit``); the download is audited."""
    form = AuditExportForm(formdata=request.args, prefix="export")
    if not form.validate():
        raise InvalidInput("Give the first and last day of the export as YYYY-MM-DD.")
    date_to = form.date_to.data or utcnow().date()
    period = export.Period(form.date_from.data or date_to - timedelta(days=30), date_to)
    archive = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it once sent
    try:
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            with zf.open(f"{period.name}.jsonl", "w") as lines:
                manifest = export.export_chain(period, lines)
            zf.writestr(f"{period.name}.jsonl.manifest.json", export.manifest_json(manifest))
        export.record_export(acting_user(), manifest, via="web")
    except BaseException:
        archive.close()
        raise
    archive.seek(0)
    return send_file(
        archive, mimetype="application/zip", as_attachment=True, download_name=f"{period.name}.zip"
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
    return render("admin/staff.html", staff=staff_roles.staff_logins(), staff_roles=STAFF_ROLES)
