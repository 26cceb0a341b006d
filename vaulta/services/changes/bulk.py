"""Deciding many change requests at once (the inbox's bulk approve and reject).

Each request is decided on its own terms, in its own transaction, with its own result.
Bulk approval takes only what its policy allows in bulk, now (``bulk_allowed``, and no
step-up code at the next level); the others are left for approval on their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from vaulta.models import User
from vaulta.services.changes import change_requests, request_state, requirements
from vaulta.services.errors import DomainError, InvalidInput
from vaulta.services.unit_of_work import session

ON_ITS_OWN = "Its policy allows no bulk approval: approve it on its own."


@dataclass(frozen=True)
class BulkResult:
    """One request's outcome: ``ok`` with its new status, or the reason it was not decided."""

    request_id: int
    ok: bool
    message: str
    status: str | None = None


def decide_many(
    request_ids: list[int], *, actor: User, action: str, reason: str | None = None
) -> list[BulkResult]:
    """Approve or reject each request (``action`` ``approve`` or ``reject``; a reject needs a
    ``reason``, checked first). One result per request, in the given order."""
    if action not in ("approve", "reject"):
        raise InvalidInput("Choose approve or reject.", field="action")
    if action == "reject":
        request_state.clean_reason(reason, required=True)
    results = []
    for request_id in dict.fromkeys(request_ids):
        try:
            results.append(_decide_one(request_id, actor, action, reason))
        except DomainError as err:
            results.append(BulkResult(request_id, False, err.message))
    return results


def _decide_one(request_id: int, actor: User, action: str, reason: str | None) -> BulkResult:
    if action == "reject":
        done = change_requests.reject(request_id, actor=actor, reason=reason or "")
        return BulkResult(request_id, True, done.status, done.status)
    request = change_requests.get(request_id)
    found = requirements.now_in_force(session(), request)
    if not found.bulk_allowed or requirements.step_up_at_next_level(request, found):
        return BulkResult(request_id, False, ON_ITS_OWN)
    done = change_requests.approve(request_id, actor=actor, reason=reason, send_code=False)
    message = done.status if not done.failure_reason else f"failed: {done.failure_reason}"
    return BulkResult(request_id, done.status != "failed", message, done.status)
