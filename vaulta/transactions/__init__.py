"""Admin pages for transactions: search across accounts, CSV export, reversals."""

from flask import Blueprint

bp = Blueprint("transactions", __name__)

from vaulta.transactions import routes  # noqa: E402,F401
