"""The double-entry ledger: the one place where balances change.

Every movement is one ``Transaction`` row that debits one account and credits another
for the same amount; both balances change in the same database transaction. Accounts are
locked in ascending id order (no deadlocks). Posted rows are never edited or deleted:
a correction is a reversal.

- ``postings``: locking, checking and moving money (``lock_accounts``, ``move``,
  ``move_many``); the only code that writes balances.
- ``operations``: ``post`` (one checked, idempotent posting) and the deposits,
  withdrawals, transfers and reversals built on it.
"""

from vaulta.services.ledger.operations import deposit, post, reverse, transfer, withdraw
from vaulta.services.ledger.postings import (
    DESCRIPTION_MAX,
    LockedAccount,
    Move,
    lock_accounts,
    move,
    move_many,
)

__all__ = [
    "DESCRIPTION_MAX",
    "LockedAccount",
    "Move",
    "deposit",
    "lock_accounts",
    "move",
    "move_many",
    "post",
    "reverse",
    "transfer",
    "withdraw",
]
