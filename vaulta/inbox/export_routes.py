"""The inbox and "My requests" as CSV or XLSX (issue 18): the same rows the pages list,
streamed when at most ``EXPORT_INLINE_MAX_ROWS``, else prepared in the background
(vaulta/exports/routes.py). The inbox export takes the inbox's filters; both list what
the signed-in user may see and nothing else (vaulta/exports/request_kinds.py)."""

from __future__ import annotations

from flask import abort, request
from werkzeug.wrappers import Response

from vaulta.auth.access import acting_user, require_permission
from vaulta.exports import routes as exports
from vaulta.exports.kinds import KINDS
from vaulta.exports.request_kinds import inbox_filters_json, mine_filters_json
from vaulta.inbox import bp, rows
from vaulta.inbox.forms import InboxFilters
from vaulta.inbox.routes import DECIDE, STAFF, filters_of, is_maker
from vaulta.models.export_job import EXPORT_INBOX, EXPORT_MY_REQUESTS
from vaulta.services.errors import InvalidInput


@bp.route("/inbox/export.<any(csv, xlsx):file_format>")
@require_permission(DECIDE)
def export(file_format: str) -> Response:
    form = InboxFilters(formdata=request.args, actions=rows.action_labels())
    if not form.validate():
        raise InvalidInput("Correct the filters of the inbox first.")
    filters = inbox_filters_json(acting_user(), filters_of(form))
    return exports.respond(KINDS[EXPORT_INBOX], file_format, filters)


@bp.route("/inbox/mine/export.<any(csv, xlsx):file_format>")
@require_permission(STAFF)
def export_mine(file_format: str) -> Response:
    actor = acting_user()
    if not is_maker(actor):
        abort(403)
    return exports.respond(KINDS[EXPORT_MY_REQUESTS], file_format, mine_filters_json(actor))
