"""The payment fixtures of the service tests: private outbox, funded source, empty target."""

from tests.services.payments.conftest import _private_outbox, source, target

__all__ = ["_private_outbox", "source", "target"]
