"""Standing orders on the web: customers under /payments/standing-orders, staff on the
customer's page and /admin/standing-orders (vaulta/services/standing_orders)."""

from flask import Blueprint

bp = Blueprint("standing_orders", __name__)

from vaulta.standing_orders import routes  # noqa: E402,F401
