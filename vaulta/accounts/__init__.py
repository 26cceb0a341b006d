"""Accounts as customers see them."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)

from vaulta.accounts import (  # noqa: E402,F401
    conversion_routes,
    hold_routes,
    limit_routes,
    routes,
    statement_routes,
)
