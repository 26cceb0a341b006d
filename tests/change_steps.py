"""Steps of a change request in tests: the newest request, and approving it as others."""

from __future__ import annotations

import re

import sqlalchemy as sa

from vaulta.extensions import db
from vaulta.models import ChangeRequest, User
from vaulta.services.changes import change_requests


def newest_request() -> ChangeRequest:
    request = db.session.scalar(sa.select(ChangeRequest).order_by(ChangeRequest.id.desc()))
    assert request is not None, "no change request was made"
    db.session.refresh(request)
    return request


def request_id_in(html: str) -> int:
    """The id of the request a page says awaits approval (its link)."""
    link = r'<a href="/admin/requests/(\d+)">Request #\1</a>'
    match = re.search(link + r"(?: for [^<]*?)? awaits approval\.", html)  # amount if money
    assert match is not None, "the page does not say a request awaits approval"
    return int(match.group(1))


def approve(request_id: int, *approvers: User) -> ChangeRequest:
    """Approve each level of the request in turn, one approver per level."""
    request = None
    for approver in approvers:
        request = change_requests.approve(request_id, actor=approver)
    assert request is not None
    db.session.expire_all()
    return request


def approve_newest(*approvers: User) -> ChangeRequest:
    return approve(newest_request().id, *approvers)
