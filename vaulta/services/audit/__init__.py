"""The audit log: ``record`` (and ``record_all``) write events in the caller's transaction
(``recording``); ``audit_queries`` reads the log for pages and exports."""

from vaulta.services.audit.recording import (
    INSERT,
    Event,
    actor_id,
    client_address,
    record,
    record_all,
)

__all__ = ["INSERT", "Event", "actor_id", "client_address", "record", "record_all"]
