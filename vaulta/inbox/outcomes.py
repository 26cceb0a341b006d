"""What a decision left, in words for the inbox's rows and flashes."""

from __future__ import annotations

from vaulta.models import ChangeRequest
from vaulta.models.change_request import CR_APPROVED, CR_FAILED


def outcome(request: ChangeRequest) -> str:
    """What a decision left: done, failed (why), or waiting for another level."""
    if request.status == CR_APPROVED:
        done = (request.result or {}).get("transaction_id")
        return "Approved and done" + (f" (transaction #{done})." if done else ".")
    if request.status == CR_FAILED:
        return f"Approved, but it failed: {request.failure_reason}"
    if request.is_pending:
        return (
            f"Level {request.levels_approved} of {request.levels_required} approved; "
            "it waits for another approver."
        )
    return f"It is {request.status}."
