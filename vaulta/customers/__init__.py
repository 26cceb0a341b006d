"""Admin pages for customers: list and search, details, edit, status, open accounts, and
a payment entered on their behalf (payment_routes.py)."""

from flask import Blueprint

bp = Blueprint("customers", __name__)

from vaulta.customers import limit_routes, payment_routes, routes  # noqa: E402,F401
