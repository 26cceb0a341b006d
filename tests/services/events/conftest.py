"""Payment fixtures (funded accounts, a private mail outbox) for the event tests."""

from tests.services.payments.conftest import _private_outbox, source, target

__all__ = ["_private_outbox", "source", "target"]
