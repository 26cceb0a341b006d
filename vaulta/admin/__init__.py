"""Staff pages: the admin landing page."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from vaulta.admin import fx_routes, policy_routes, routes, staff_routes  # noqa: E402,F401
