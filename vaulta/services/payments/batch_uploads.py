"""Previewing an uploaded payment file: every line checked, nothing created but the audit
event of the upload (who, which account, the file's name, format, SHA-256 and counts).

Staff need ``payments.request`` (any customer's account); a customer's login needs
``own.payments.request`` and may only upload for its customer's own accounts (another's
is NotFound, like an unknown one)."""

from __future__ import annotations

from vaulta.models import User
from vaulta.services import audit
from vaulta.services.identity import permissions
from vaulta.services.payments.batch_lines import Preview, check_file
from vaulta.services.unit_of_work import write_transaction

STAFF_UPLOAD = "payments.request"
CUSTOMER_UPLOAD = "own.payments.request"


def preview(account_id: int, data: bytes, file_name: str, *, actor: User) -> Preview:
    """``check_file`` for someone who may request payments (Forbidden otherwise), audited
    as ``payment_file.upload``. InvalidInput(field="file") for an unreadable file;
    NotFound for an unknown account or, for a customer, another customer's."""
    customer_id = actor.customer_id
    permissions.require(actor, STAFF_UPLOAD if customer_id is None else CUSTOMER_UPLOAD)
    checked = check_file(account_id, data, file_name, customer_id=customer_id)
    with write_transaction() as s:
        audit.record(
            s,
            actor=actor,
            action="payment_file.upload",
            object_type="account",
            object_id=checked.account_id,
            details={
                "file_name": checked.file_name,
                "format": checked.format,
                "sha256": checked.sha256,
                "valid": len(checked.valid),
                "invalid": len(checked.invalid),
                "totals": checked.totals,
            },
        )
    return checked
