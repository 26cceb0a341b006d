"""Payment files: staff upload a customer's CSV or pain.001.001.09 file (``bp``, under
/admin), and a customer uploads one for their own account (``customer_bp``, under
/payments/files); either way every line is checked and shown, and the valid lines are
submitted as one ``payments.batch`` change request decided by staff (issue 17)."""

from flask import Blueprint

bp = Blueprint("payfiles", __name__)
customer_bp = Blueprint("customer_payfiles", __name__)

from vaulta.payfiles import customer_routes, routes  # noqa: E402,F401
