"""Sign-in (password, then a second factor), sign-out and the settings pages."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

# Importing the modules registers their views on bp.
from vaulta.auth import password_reset, routes, second_factor, two_factor_settings  # noqa: E402,F401
