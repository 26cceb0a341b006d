"""Flask extensions, created unbound here and bound to an app in ``create_app``."""

import importlib.util

from alembic.config import Config as AlembicConfig
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from vaulta.database import Session
from vaulta.models import Base

# Every pooled connection is pinged as it is checked out and replaced if the server dropped
# it (restart, failover, pg_terminate_backend): the first request after an outage succeeds
# (vaulta/outages.py). SQLALCHEMY_ENGINE_OPTIONS may add to these.
db = SQLAlchemy(
    model_class=Base,
    session_options={"class_": Session},
    engine_options={"pool_pre_ping": True},
)
migrate = Migrate(compare_type=True, compare_server_default=True, render_as_batch=True)


@migrate.configure
def _format_revisions_only_with_ruff(config: AlembicConfig) -> AlembicConfig:
    """ruff (which formats new revisions: migrations/alembic.ini) is a development tool:
    without it, ``flask db migrate``, ``revision`` and ``merge`` write them unformatted."""
    if importlib.util.find_spec("ruff") is None:
        config.set_section_option("post_write_hooks", "hooks", "")
    return config


login_manager = LoginManager()
csrf = CSRFProtect()
# Storage, limits and switches come from the app's RATELIMIT_* settings (vaulta/config.py).
limiter = Limiter(key_func=get_remote_address)
