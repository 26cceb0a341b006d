"""Payment files: staff upload a customer's CSV or pain.001.001.09 file, see every line
checked, and submit the valid lines as one ``payments.batch`` change request (issue 17)."""

from flask import Blueprint

bp = Blueprint("payfiles", __name__)

from vaulta.payfiles import routes  # noqa: E402,F401
