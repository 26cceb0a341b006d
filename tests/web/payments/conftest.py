"""The payment fixture of the service tests: a private outbox (funded ``source`` and empty
``target`` accounts come from tests/conftest.py)."""

from tests.services.payments.conftest import _private_outbox

__all__ = ["_private_outbox"]
