"""Helpers of the payment-file tests: fixture files and submitting a batch."""

from __future__ import annotations

from pathlib import Path

from vaulta.models import Account, ChangeRequest, User
from vaulta.services.changes import change_requests
from vaulta.services.payments.batch_actions import BATCH

FILES = Path(__file__).parent.parent.parent / "fixtures" / "payment_files"


def read(name: str) -> bytes:
    return (FILES / name).read_bytes()


def csv_file(*amounts: str, currency: str = "EUR") -> bytes:
    """A valid CSV paying ``amounts`` to one external beneficiary each."""
    rows = [
        "beneficiary_name,beneficiary_iban,beneficiary_bic,amount,currency,reference,remittance"
    ]
    for i, amount in enumerate(amounts, 1):
        rows.append(f"Payee {i},DE89370400440532013000,,{amount},{currency},R-{i},Line {i}")
    return ("\n".join(rows) + "\n").encode()


def submit_batch(
    teller: User, account: Account, data: bytes, name: str = "pay.csv"
) -> ChangeRequest:
    return change_requests.submit(
        BATCH,
        {"account_id": account.id, "file_name": name, "content": data.decode()},
        actor=teller,
    )
