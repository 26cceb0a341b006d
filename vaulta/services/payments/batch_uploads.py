"""Previewing an uploaded payment file: every line checked, nothing created but the audit
event of the upload (who, which account, the file's name, format, SHA-256 and counts)."""

from __future__ import annotations

from vaulta.models import User
from vaulta.services import audit
from vaulta.services.identity import permissions
from vaulta.services.payments.batch_lines import Preview, check_file
from vaulta.services.unit_of_work import write_transaction


def preview(account_id: int, data: bytes, file_name: str, *, actor: User) -> Preview:
    """``check_file`` for someone who may request payments (Forbidden otherwise), audited
    as ``payment_file.upload``. InvalidInput(field="file") for an unreadable file."""
    permissions.require(actor, "payments.request")
    checked = check_file(account_id, data, file_name)
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
