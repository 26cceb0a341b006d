"""The JSON API's shapes: request checks (query, headers, body) and the JSON it returns.

Amounts are integers in minor units next to their currency (``amount_minor``,
``balance_minor``, ``balance_after_minor`` + ``currency``): never floats, never strings.
Timestamps are ISO 8601 in UTC with a ``Z``. openapi.py describes exactly these shapes.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import current_app

from vaulta.models import Account, Payment
from vaulta.models.payment import PAYMENT_STATUSES
from vaulta.money import CURRENCIES
from vaulta.services.ledger.statements import StatementRow
from vaulta.services.payments.api_payments import ApiPaymentRequest
from vaulta.text import display_problem

LIMIT_DEFAULT, LIMIT_MAX = 50, 200
CURSOR_MAX_LENGTH = 64
ACCOUNT_NUMBER = re.compile(r"^[0-9]{10}$")
IBAN_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,64}$")  # visible ASCII, no spaces
TEXT_MAX = 140
ID_MAX = 2**31 - 1  # ids are INTEGER columns
PAYMENT_FIELDS = frozenset({"from_account", "to_account", "beneficiary"}) | {
    "amount_minor",
    "currency",
    "reference",
}


class ApiError(Exception):
    """An API refusal: HTTP status, stable code, message and optional per-field details."""

    def __init__(
        self, status: int, code: str, message: str, details: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def validation_failed(details: list[dict[str, str]]) -> ApiError:
    return ApiError(422, "validation_failed", "The request has invalid values.", details)


def _problem(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


# --- Responses ---


def timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def account_json(account: Account) -> dict[str, Any]:
    return {
        "number": account.number,
        "currency": account.currency,
        "balance_minor": account.balance_minor,
        "status": account.status,
        "opened_at": timestamp(account.opened_at),
        "closed_at": timestamp(account.closed_at),
    }


def transaction_json(row: StatementRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "created_at": timestamp(row.created_at),
        "kind": row.kind,
        "description": row.description,
        "reference": row.reference,
        "amount_minor": row.amount_minor,
        "currency": row.currency,
        "balance_after_minor": row.balance_minor,
        "counterparty_account": row.counterparty,
    }


def payment_json(payment: Payment) -> dict[str, Any]:
    external = payment.beneficiary_account is None
    return {
        "id": payment.id,
        "status": payment.status,
        "from_account": payment.from_account.number,
        "to_account": None if external else payment.beneficiary_account.number,
        "beneficiary": (
            {"name": payment.beneficiary_name, "iban": payment.beneficiary_iban}
            if external
            else None
        ),
        "amount_minor": payment.amount_minor,
        "currency": payment.currency,
        "reference": payment.reference,
        "created_at": timestamp(payment.created_at),
        "updated_at": timestamp(payment.updated_at),
        "confirmed_at": timestamp(payment.confirmed_at),
        "expires_at": timestamp(payment.expires_at),
        "approved_at": timestamp(payment.approved_at),
        "decided_at": timestamp(payment.decided_at),
        "rejection_reason": payment.rejection_reason,
        "failure_reason": payment.failure_reason,
        "transaction_id": payment.transaction_id,
    }


def page_json(items: list[dict[str, Any]], next_id: int | None, kind: str) -> dict[str, Any]:
    return {"items": items, "next_cursor": encode_cursor(kind, next_id) if next_id else None}


# --- Query parameters and headers ---


def encode_cursor(kind: str, last_id: int) -> str:
    """An opaque cursor: clients pass it back as they got it."""
    return base64.urlsafe_b64encode(f"{kind}:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(value: str | None, kind: str) -> int | None:
    if value is None:
        return None
    try:
        padded = value + "=" * (-len(value) % 4)
        prefix, _, number = base64.urlsafe_b64decode(padded.encode("ascii")).decode().partition(":")
        last_id = int(number) if prefix == kind and number.isdigit() else 0
    except (ValueError, UnicodeError, binascii.Error):
        last_id = 0
    if len(value) > CURSOR_MAX_LENGTH or not 0 < last_id <= ID_MAX:
        raise validation_failed([_problem("cursor", "Pass back a next_cursor as you got it.")])
    return last_id


def parse_limit(value: str | None) -> int:
    if value is None:
        return LIMIT_DEFAULT
    if not re.fullmatch(r"[0-9]{1,3}", value) or not 1 <= int(value) <= LIMIT_MAX:
        raise validation_failed([_problem("limit", f"A whole number from 1 to {LIMIT_MAX}.")])
    return int(value)


def parse_status(value: str | None) -> str | None:
    if value is None:
        return None
    if value not in PAYMENT_STATUSES:
        raise validation_failed([_problem("status", "One of: " + ", ".join(PAYMENT_STATUSES))])
    return value


def idempotency_key(value: str | None) -> str:
    if value is None:
        raise ApiError(
            400, "idempotency_key_required", "Send an Idempotency-Key header (1 to 64 characters)."
        )
    if not IDEMPOTENCY_KEY.match(value):
        raise ApiError(
            400,
            "invalid_idempotency_key",
            "The Idempotency-Key has 1 to 64 visible ASCII characters, no spaces.",
        )
    return value


# --- The payment request body ---


def _text(body: Mapping[str, Any], name: str, problems: list[dict[str, str]], field: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not 1 <= len(value) <= TEXT_MAX:
        problems.append(_problem(field, f"A string of 1 to {TEXT_MAX} characters."))
        return ""
    if any(ord(c) < 0x20 or ord(c) == 0x7F or 0xD800 <= ord(c) <= 0xDFFF for c in value):
        problems.append(_problem(field, "Control characters are not allowed."))
        return ""
    if problem := display_problem(value):  # C1 and bidirectional controls (vaulta/text.py)
        problems.append(_problem(field, problem))
        return ""
    return value


def _shaped(value: Any, pattern: re.Pattern[str]) -> bool:
    return isinstance(value, str) and pattern.match(value) is not None


def payment_request(body: Any) -> ApiPaymentRequest:
    """The checked body of ``POST /api/v1/payments``; 400 when not an object, else 422."""
    if not isinstance(body, dict):
        raise ApiError(
            400, "malformed_request", "Send a JSON object (Content-Type: application/json)."
        )
    problems = [_problem(name, "Unknown field.") for name in sorted(set(body) - PAYMENT_FIELDS)]
    if not _shaped(body.get("from_account"), ACCOUNT_NUMBER):
        problems.append(_problem("from_account", "One of your 10-digit account numbers."))
    amount = body.get("amount_minor")
    maximum = current_app.config["LEDGER_MAX_AMOUNT_MINOR"]
    if type(amount) is not int or not 1 <= amount <= maximum:
        problems.append(_problem("amount_minor", f"An integer from 1 to {maximum} (minor units)."))
    if body.get("currency") not in CURRENCIES:
        problems.append(_problem("currency", "The account's ISO 4217 currency code."))
    reference = _text(body, "reference", problems, "reference")
    to_account, name, iban = body.get("to_account"), None, None
    beneficiary = body.get("beneficiary")
    if ("to_account" in body) == ("beneficiary" in body):
        problems.append(_problem("to_account", "Give either to_account or beneficiary."))
    elif "to_account" in body and not _shaped(to_account, ACCOUNT_NUMBER):
        problems.append(_problem("to_account", "A 10-digit VAULTA account number."))
    elif "beneficiary" in body:
        if not isinstance(beneficiary, dict) or set(beneficiary) != {"name", "iban"}:
            problems.append(_problem("beneficiary", "An object with name and iban only."))
        else:
            name = _text(beneficiary, "name", problems, "beneficiary.name")
            iban = beneficiary["iban"]
            if not _shaped(iban, IBAN_SHAPE):
                problems.append(_problem("beneficiary.iban", "An IBAN in capitals, no spaces."))
    if problems:
        raise validation_failed(problems)
    return ApiPaymentRequest(
        from_account=body["from_account"],
        amount_minor=amount,
        currency=body["currency"],
        reference=reference,
        to_account=to_account if "to_account" in body else None,
        beneficiary_name=name,
        beneficiary_iban=iban,
    )


def path_account_number(number: str) -> str | None:
    """The number when it has the shape of an account number, else None (a 404)."""
    return number if ACCOUNT_NUMBER.match(number) else None


def path_id(value: int) -> int | None:
    return value if 0 < value <= ID_MAX else None
