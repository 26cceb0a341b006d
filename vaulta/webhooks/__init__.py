"""Webhook endpoints for admins: pages at ``/admin/webhooks`` and the JSON API at
``/api/v1/webhook-endpoints``.

The JSON API is for signed-in admins (their session cookie; writes send the CSRF token in
``X-CSRFToken``, as htmx does): admins have no API keys (vaulta/api/auth.py), so this
blueprint is apart from the customers' bearer-key API and is not exempt from CSRF.
"""

from flask import Blueprint

bp = Blueprint("webhooks", __name__)  # pages, under /admin/webhooks
api_bp = Blueprint("webhooks_api", __name__)  # JSON, under /api/v1/webhook-endpoints

from vaulta.webhooks import api, routes  # noqa: E402,F401
