"""Change requests: four eyes on every money movement and sensitive change.

- ``actions``: the registry of what can be requested (``ActionSpec``: prepare, recheck,
  execute) and the ledger's own actions (deposit, withdrawal, reversal).
- ``policies``: which approval policy applies to a request (levels, roles, step-up, bulk).
- ``change_requests``: the commands (submit, approve, reject, cancel, expire).
- ``change_queries``: reads for pages and the API (Core rows).

See docs/architecture.md "Change requests" and /INTERFACE.md of the w5-changes branch.
"""

# The ledger's actions register themselves on import.
# Customers, accounts, staff roles, staff API keys and the policies themselves (w5-actions).
from vaulta.services.changes import (  # noqa: F401
    banking_actions,
    conversion_action,
    hold_actions,
    identity_actions,
    ledger_actions,
    limit_actions,
    payment_action,
    policy_actions,
)

# A payment file's batch (vaulta/services/payments/batch_actions.py).
from vaulta.services.payments import batch_actions  # noqa: F401
