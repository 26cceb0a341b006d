"""The admin approval queue: four eyes on every payment, exactly-once execution."""

from flask import Blueprint

bp = Blueprint("approvals", __name__)

from vaulta.approvals import routes  # noqa: E402,F401
