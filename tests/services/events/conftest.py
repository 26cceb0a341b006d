"""A private mail outbox for the event tests (the funded ``source``/``target`` accounts are
tests/conftest.py's)."""

from tests.services.payments.conftest import _private_outbox

__all__ = ["_private_outbox"]
