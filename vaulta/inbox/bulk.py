"""Approving several change requests at once, from the inbox's selected rows.

Only requests whose policy allows bulk approval (``bulk_allowed``) and whose next level
needs no one-time code are approved here; each goes through ``change_requests.approve`` on
its own (four eyes, roles, the policy now in force, exactly-once execution), so each gets
its own result. Everything else is refused with the reason, to be decided on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from vaulta.models import ChangeRequest, User
from vaulta.models.change_request import CR_APPROVED, CR_FAILED
from vaulta.services.changes import change_requests
from vaulta.services.errors import DomainError

BULK_MAX = 100


@dataclass(frozen=True)
class RowResult:
    request_id: int
    ok: bool
    message: str


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


def approve_many(ids: list[int], *, actor: User) -> list[RowResult]:
    """Approve each request of ``ids`` (once each, in order) where its policy allows it."""
    results = []
    for request_id in list(dict.fromkeys(ids))[:BULK_MAX]:
        try:
            request = change_requests.get(request_id)
            if not request.bulk_allowed:
                message = "Its policy does not allow bulk approval: decide it on its own."
                results.append(RowResult(request_id, False, message))
                continue
            if change_requests.needs_step_up(request):
                message = "Its next level needs a one-time code: decide it on its own."
                results.append(RowResult(request_id, False, message))
                continue
            request = change_requests.approve(request_id, actor=actor, send_code=False)
        except DomainError as err:
            results.append(RowResult(request_id, False, err.message))
            continue
        results.append(RowResult(request_id, request.status != CR_FAILED, outcome(request)))
    return results
