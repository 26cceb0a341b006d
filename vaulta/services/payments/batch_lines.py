"""Checking a payment file's lines before anything is created: each line against the same
rules as a one-off payment (``payment_creation.check_order_for``: the customer's active
account, the beneficiary's name, IBAN and BIC by schwifty, the amount in the account's
currency within LEDGER_MAX_AMOUNT_MINOR, a clean reference), plus what only a file has: a
currency column, text that a spreadsheet would run as a formula, a row of the wrong width.

``check_file`` reads and never writes payments: the preview page and the batch action's
``prepare`` call it, so what is shown is what is requested.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from vaulta.models import Account
from vaulta.models.account import KIND_CUSTOMER
from vaulta.services.errors import InvalidInput, NotFound
from vaulta.services.payments import batch_files, payment_fields
from vaulta.services.payments.payment_creation import PaymentOrder, check_order_for
from vaulta.services.unit_of_work import session

# A cell starting with one of these runs as a formula when the file (or an export of the
# payments) is opened in a spreadsheet: such lines are refused, not silently changed.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class LineError:
    line_no: int
    field: str | None
    message: str
    beneficiary_name: str
    amount: str
    currency: str


@dataclass(frozen=True)
class Preview:
    """What a file would request: the valid lines (JSON-ready, as stored with the change
    request), the invalid ones with their reason, and the valid totals per currency."""

    account_id: int
    account_number: str
    customer_id: int
    currency: str
    format: str
    file_name: str
    sha256: str
    debtor_account: str | None
    valid: list[dict[str, Any]]
    invalid: list[LineError]
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def line_count(self) -> int:
        return len(self.valid) + len(self.invalid)


def batch_account(account_id: int, customer_id: int | None = None) -> Account:
    """A customer's account a file may debit (its status is checked per line); with
    ``customer_id`` (a customer's own upload) only that customer's: NotFound otherwise."""
    account = session().get(Account, account_id)
    if account is None or account.kind != KIND_CUSTOMER or account.customer_id is None:
        raise NotFound("No such account.")
    if customer_id is not None and account.customer_id != customer_id:
        raise NotFound("No such account.")
    return account


def check_file(
    account_id: int, data: bytes, file_name: str, *, customer_id: int | None = None
) -> Preview:
    """Parse ``data`` and check every line; InvalidInput(field="file") for a file that
    cannot be read as a whole, NotFound for an unknown account (or, with ``customer_id``,
    another customer's)."""
    account = batch_account(account_id, customer_id)
    parsed = batch_files.parse(data, file_name)
    _check_debtor(parsed.debtor_account, account)
    assert account.customer_id is not None
    valid: list[dict[str, Any]] = []
    invalid: list[LineError] = []
    totals: dict[str, int] = defaultdict(int)
    for raw in parsed.lines:
        try:
            line = _check_line(account.customer_id, account, raw)
        except InvalidInput as err:
            invalid.append(
                LineError(
                    raw.line_no,
                    err.field,
                    err.message,
                    raw.beneficiary_name[:140],
                    raw.amount[:40],
                    raw.currency[:3],
                )
            )
            continue
        valid.append(line)
        totals[line["currency"]] += line["amount_minor"]
    return Preview(
        account_id=account.id,
        account_number=account.number,
        customer_id=account.customer_id,
        currency=account.currency,
        format=parsed.format,
        file_name=clean_file_name(file_name),
        sha256=hashlib.sha256(data).hexdigest(),
        debtor_account=parsed.debtor_account,
        valid=valid,
        invalid=invalid,
        totals=dict(totals),
    )


def clean_file_name(name: str) -> str:
    """The uploaded file's name as shown: its last part, printable, at most 100 characters."""
    name = re.split(r"[\\/]", name or "")[-1]
    name = "".join(ch for ch in name if ch.isprintable())[:100].strip()
    return name or "upload"


def _check_debtor(debtor: str | None, account: Account) -> None:
    """A pain.001 DbtrAcct given as an account number (Othr/Id) must be the chosen account.
    VAULTA accounts have no IBAN: a DbtrAcct IBAN is shown on the preview, not matched."""
    if debtor and debtor.isdigit() and debtor != account.number:
        raise batch_files.refuse(
            f"The file debits account {debtor[:34]}, not {account.number}: upload it for "
            "that account."
        )


def _check_line(customer_id: int, account: Account, raw: batch_files.RawLine) -> dict[str, Any]:
    if raw.problem:
        raise InvalidInput(raw.problem, field="line")
    for name, value in (
        ("beneficiary_name", raw.beneficiary_name),
        ("reference", raw.reference),
        ("remittance", raw.remittance),
    ):
        if value.lstrip(" ").startswith(FORMULA_STARTS):
            raise InvalidInput(
                f"The {name.replace('_', ' ')} starts with {value.lstrip(' ')[0]!r}, like a "
                "spreadsheet formula: remove it.",
                field=name,
            )
    currency = raw.currency.strip().upper()
    if not _CURRENCY.fullmatch(currency):
        raise InvalidInput("Give the currency as a three-letter code.", field="currency")
    if currency != account.currency:
        raise InvalidInput(
            f"Account {account.number} holds {account.currency}; this line is in {currency}.",
            field="currency",
        )
    if not raw.beneficiary_iban.strip():
        raise InvalidInput("Give the beneficiary's IBAN.", field="beneficiary_iban")
    amount_minor = payment_fields.payment_amount(raw.amount, currency)
    end_to_end = None
    if raw.reference.strip():
        end_to_end = payment_fields.clean_text(
            raw.reference, field="reference", label="the reference", maximum=35
        )
    checked = check_order_for(
        customer_id,
        PaymentOrder(
            from_account=account.number,
            reference=raw.remittance if raw.remittance.strip() else raw.reference,
            amount_minor=amount_minor,
            currency=currency,
            beneficiary_name=raw.beneficiary_name,
            beneficiary_iban=raw.beneficiary_iban,
            beneficiary_bic=raw.beneficiary_bic,
        ),
    )
    return {
        "line_no": raw.line_no,
        "beneficiary_name": checked.beneficiary_name,
        "beneficiary_iban": checked.beneficiary_iban,
        "beneficiary_bic": checked.beneficiary_bic,
        "amount_minor": checked.amount_minor,
        "currency": currency,
        "reference": checked.reference,
        "end_to_end_id": end_to_end,
    }
