"""The double-entry ledger: the one place where balances change.

Every entry is one ``Transaction`` row (its header: the principal movement from one
account to another) and two or more ``Posting`` rows (its legs: signed amounts, credit
positive, summing to zero per currency, on one value date); every balance it changes
changes in the same database transaction, and a balance is the sum of its postings. Accounts are
locked in ascending id order (no deadlocks). Posted rows are never edited or deleted:
a correction is a reversal.

- ``postings``: locking, checking and moving money (``lock_accounts``, ``move``,
  ``move_many``); the only code that writes balances.
- ``entries``: ``post_entry`` (one checked entry of several ``Leg`` s: conversions, fees).
- ``operations``: ``post`` (one checked, idempotent posting) and the deposits,
  withdrawals, transfers and reversals built on it.
"""

from vaulta.services.ledger.entries import Leg, post_entry
from vaulta.services.ledger.operations import deposit, post, reverse, transfer, withdraw
from vaulta.services.ledger.postings import (
    DESCRIPTION_MAX,
    LockedAccount,
    Move,
    check_debit,
    lock_accounts,
    move,
    move_many,
)

__all__ = [
    "DESCRIPTION_MAX",
    "Leg",
    "LockedAccount",
    "Move",
    "check_debit",
    "deposit",
    "lock_accounts",
    "move",
    "move_many",
    "post",
    "post_entry",
    "reverse",
    "transfer",
    "withdraw",
]
