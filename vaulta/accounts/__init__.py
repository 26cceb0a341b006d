"""Accounts as customers see them."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)

from vaulta.accounts import conversion_routes, routes, statement_routes  # noqa: E402,F401
