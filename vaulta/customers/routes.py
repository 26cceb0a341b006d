"""Views of the customers blueprint."""

from vaulta.customers import bp  # noqa: F401
