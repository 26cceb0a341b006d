"""Customers' payment requests: request, confirm with a one-time passcode, cancel, follow."""

from flask import Blueprint

bp = Blueprint("payments", __name__)

from vaulta.payments import routes  # noqa: E402,F401
