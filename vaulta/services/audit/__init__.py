"""The audit log: ``record`` (and ``record_all``) write events in the caller's transaction
(``recording``), hash-chained as it commits (``chain``); ``audit_queries`` reads the log for
pages, ``verification`` checks the chain and ``export`` writes it out for auditors."""

from vaulta.services.audit.recording import (
    Event,
    actor_id,
    client_address,
    record,
    record_all,
    request_id,
)

__all__ = ["Event", "actor_id", "client_address", "record", "record_all", "request_id"]
