"""Mail about payments and change requests, sent by background jobs
(docs/architecture.md "Notifications").

``making`` turns committed outbox events (``payment.executed``, ``payment.rejected``) into
notification rows in the transaction that fans them out, and makes one approval reminder
per payment and per change request (``request_reminders``) waiting longer than
APPROVAL_REMINDER_HOURS; ``sending`` mails them, at least
once (claimed with a lease, sent outside any transaction, then marked).
"""

from vaulta.services.notifications.making import from_events, make_reminders
from vaulta.services.notifications.sending import any_due, send_due, send_one

__all__ = ["any_due", "from_events", "make_reminders", "send_due", "send_one"]
