"""Operations: schema status, backup and restore, safe upgrades, maintenance mode, /healthz
and the admin "system" page. The logic lives in plain modules (schema, backup, watermark,
drain, upgrade, rehearsal); routes.py holds the two thin views, maintenance.py the
app-wide maintenance check and cli.py the ``flask vaulta …`` commands."""

from flask import Blueprint

bp = Blueprint("ops", __name__)  # admin pages, under /admin
health_bp = Blueprint("health", __name__)  # /healthz for load balancers: no login, GET only

from vaulta.ops import maintenance, routes  # noqa: E402,F401
