"""The checker inbox: change requests the signed-in user may decide, their detail pages
and the maker's own requests (issue 15)."""

from flask import Blueprint

bp = Blueprint("inbox", __name__)

from vaulta.inbox import export_routes, routes  # noqa: E402,F401
