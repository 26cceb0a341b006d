"""Admin pages for customers: list and search, details, edit, status, open accounts."""

from flask import Blueprint

bp = Blueprint("customers", __name__)

from vaulta.customers import routes  # noqa: E402,F401
