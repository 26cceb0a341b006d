"""The JSON API's shapes as typed pydantic models: what it accepts and what it returns.

These models are the single source of both the checks on each request and the OpenAPI
document (vaulta/api/spec.py hands them to spectree, which validates requests and builds
the document from their JSON Schema). Amounts are integers in minor units next to their
currency, never floats or strings; timestamps are ISO 8601 in UTC with a ``Z``.

Input models forbid unknown fields and coerce nothing in a JSON body (``strict``): ``"12"``
is not an amount and ``12`` is not an account number. Rules that need the database or the
app's settings (whose account, the largest amount, IBAN and BIC by schwifty) are the
payment service's (vaulta/services/payments/payment_requests.py).
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from vaulta.models import Account as AccountRow
from vaulta.models import Payment as PaymentRow
from vaulta.models.account import ACCOUNT_STATUSES
from vaulta.models.payment import PAYMENT_STATUSES
from vaulta.models.transaction import TRANSACTION_KINDS
from vaulta.money import CURRENCIES
from vaulta.services.ledger.statements import StatementRow
from vaulta.text import display_problem

LIMIT_DEFAULT, LIMIT_MAX = 50, 200
CURSOR_MAX_LENGTH = 64
TEXT_MAX = 140
ID_MAX = 2**31 - 1  # ids are INTEGER columns
BIGINT_MAX = 2**63 - 1  # amounts are BIGINT columns; LEDGER_MAX_AMOUNT_MINOR is lower
ACCOUNT_NUMBER_PATTERN = r"^[0-9]{10}$"
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]{1,64}$"  # visible ASCII, no spaces


# --- Building blocks ---


def _printable(value: str) -> str:
    """No control characters (C0, DEL, C1, lone surrogates) and no text-direction tricks."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F or 0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise PydanticCustomError("control_character", "Control characters are not allowed.")
    if problem := display_problem(value):  # C1 and bidirectional controls (vaulta/text.py)
        raise PydanticCustomError("display_problem", problem)
    return value


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


Text = Annotated[
    str, StringConstraints(min_length=1, max_length=TEXT_MAX), AfterValidator(_printable)
]
AccountNumber = Annotated[
    str, StringConstraints(pattern=ACCOUNT_NUMBER_PATTERN), Field(examples=["1000000009"])
]
Currency = Annotated[Literal[CURRENCIES], Field(description="ISO 4217")]  # type: ignore[valid-type]
Timestamp = Annotated[
    datetime,
    PlainSerializer(_utc, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time", "description": "ISO 8601, UTC"}),
]
PaymentStatus = Literal[PAYMENT_STATUSES]  # type: ignore[valid-type]


def _left_out_not_null(schema: dict[str, Any]) -> None:
    """Document optional fields as left out, not as ``null``: ``X | None = None`` in the model
    (one nullable type, so errors name the field alone) shows as X."""
    for prop in schema.get("properties", {}).values():
        choices = prop.get("anyOf", [])
        if len(choices) == 2 and {"type": "null"} in choices:
            del prop["anyOf"]
            prop.update(next(c for c in choices if c != {"type": "null"}))
        if "default" in prop and prop["default"] is None:
            del prop["default"]


class Shape(BaseModel):
    """Every model: unknown fields refused on input, ``additionalProperties: false`` in the
    document (responses are checked against it by schemathesis)."""

    model_config = ConfigDict(extra="forbid")


# --- Requests ---


class BeneficiaryRequest(Shape):
    """An external beneficiary: checked with schwifty by the payment service."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: Text
    iban: Annotated[
        str,
        StringConstraints(pattern=r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$"),
        Field(description="An IBAN in capitals, no spaces"),
    ]
    bic: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{8}([A-Z0-9]{3})?$")] | None = Field(
        default=None, description="The beneficiary bank's BIC (8 or 11 characters), optional"
    )


def _one_of_targets(schema: dict[str, Any]) -> None:
    _left_out_not_null(schema)
    schema["oneOf"] = [{"required": ["to_account"]}, {"required": ["beneficiary"]}]


class PaymentRequest(Shape):
    """Pay a VAULTA account (to_account) or an external IBAN (beneficiary)."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra=lambda schema: _one_of_targets(schema),
    )

    from_account: AccountNumber
    to_account: AccountNumber | None = None
    beneficiary: BeneficiaryRequest | None = None
    amount_minor: Annotated[
        StrictInt,
        Field(ge=1, le=BIGINT_MAX, description="minor units, at most LEDGER_MAX_AMOUNT_MINOR"),
    ]
    currency: Currency
    reference: Text

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        """Leave out the target you do not use: ``null`` is not a value for either."""
        if isinstance(data, dict):
            for name in ("to_account", "beneficiary"):
                if name in data and data[name] is None:
                    raise PydanticCustomError(
                        "not_null", "Leave the field out instead of null.", {"field": name}
                    )
        return data

    @model_validator(mode="after")
    def _one_target(self) -> PaymentRequest:
        if (self.to_account is None) == (self.beneficiary is None):
            raise PydanticCustomError(
                "one_target", "Give either to_account or beneficiary.", {"field": "to_account"}
            )
        return self


def _cursor(kind: str) -> Any:
    """An opaque keyset cursor (``kind:last_id`` in URL-safe base64) as the last id."""

    def decode(value: str) -> int:
        try:
            padded = value + "=" * (-len(value) % 4)
            raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
            prefix, _, number = raw.partition(":")
            last_id = int(number) if prefix == kind and number.isdigit() else 0
        except (ValueError, UnicodeError, binascii.Error):
            last_id = 0
        if not 0 < last_id <= ID_MAX:
            raise PydanticCustomError("cursor", "Pass back a next_cursor as you got it.")
        return last_id

    return Annotated[
        str,
        StringConstraints(max_length=CURSOR_MAX_LENGTH),
        AfterValidator(decode),
        Field(description="The next_cursor of the previous page (opaque)"),
    ]


def encode_cursor(kind: str, last_id: int | None) -> str | None:
    if not last_id:
        return None
    return base64.urlsafe_b64encode(f"{kind}:{last_id}".encode()).decode().rstrip("=")


Limit = Annotated[int, Field(ge=1, le=LIMIT_MAX, description="Page size")]


class TransactionQuery(BaseModel):
    # Unknown query parameters are refused (422), as unknown body fields are.
    model_config = ConfigDict(extra="forbid", json_schema_extra=_left_out_not_null)

    limit: Limit = LIMIT_DEFAULT
    cursor: _cursor("t") | None = None  # type: ignore[valid-type]


class PaymentQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_left_out_not_null)

    status: Annotated[PaymentStatus, Field(description="Only this status")] | None = None
    limit: Limit = LIMIT_DEFAULT
    cursor: _cursor("p") | None = None  # type: ignore[valid-type]


class IdempotencyHeaders(BaseModel):
    """``Idempotency-Key``: the first response to a key is stored and replayed to the same
    request; another request with the key gets 409 (vaulta/services/api_idempotency.py)."""

    idempotency_key: Annotated[
        str,
        Field(
            alias="Idempotency-Key",
            pattern=IDEMPOTENCY_KEY_PATTERN,
            description="1-64 visible ASCII characters. The first response to a key is "
            "stored and replayed to the same request; another request with the key gets 409.",
        ),
    ]


# --- Responses ---


class FieldProblem(Shape):
    field: str
    message: str


class ErrorDetail(Shape):
    code: str
    message: str
    details: list[FieldProblem] = Field(default_factory=list, description="Invalid values (422)")


class Error(Shape):
    error: ErrorDetail


class Account(Shape):
    number: AccountNumber
    currency: Currency
    balance_minor: Annotated[int, Field(description="minor units")]
    overdraft_limit_minor: Annotated[
        int, Field(description="minor units the balance may go below zero (0: none)")
    ]
    available_minor: Annotated[
        int,
        Field(
            description="minor units: the balance less active holds plus the overdraft "
            "limit (what may be spent)"
        ),
    ]
    held_minor: Annotated[int, Field(description="minor units reserved by active holds")]
    status: Literal[ACCOUNT_STATUSES]  # type: ignore[valid-type]
    opened_at: Timestamp
    closed_at: Timestamp | None

    @classmethod
    def of(cls, account: AccountRow) -> Account:
        return cls(
            number=account.number,
            currency=account.currency,
            balance_minor=account.balance_minor,
            overdraft_limit_minor=account.overdraft_limit_minor,
            available_minor=account.available_minor,
            held_minor=account.held_minor,
            status=account.status,
            opened_at=account.opened_at,
            closed_at=account.closed_at,
        )


class AccountList(Shape):
    items: list[Account]


class Transaction(Shape):
    id: int
    created_at: Timestamp
    kind: Literal[TRANSACTION_KINDS]  # type: ignore[valid-type]
    description: str
    reference: str | None
    amount_minor: Annotated[
        int, Field(description="signed for this account: credits positive, debits negative")
    ]
    currency: Currency
    balance_after_minor: Annotated[
        int, Field(description="the running balance after it, in value-date order")
    ]
    counterparty_account: str
    value_date: Annotated[date, Field(description="YYYY-MM-DD: the day it counts from")]

    @classmethod
    def of(cls, row: StatementRow) -> Transaction:
        return cls(
            id=row.id,
            created_at=row.created_at,
            kind=row.kind,
            description=row.description,
            reference=row.reference,
            amount_minor=row.amount_minor,
            currency=row.currency,
            balance_after_minor=row.balance_minor,
            counterparty_account=row.counterparty,
            value_date=row.value_date,
        )


NextCursor = Annotated[
    str | None, Field(description="Pass as ?cursor= for the next page; null on the last page.")
]


class TransactionPage(Shape):
    items: list[Transaction]
    next_cursor: NextCursor


class Beneficiary(Shape):
    name: str
    iban: str
    bic: str | None


class Payment(Shape):
    id: int
    status: PaymentStatus
    from_account: AccountNumber
    to_account: str | None
    beneficiary: Beneficiary | None
    amount_minor: Annotated[int, Field(ge=1, description="minor units")]
    currency: Currency
    reference: str
    created_at: Timestamp
    updated_at: Timestamp
    confirmed_at: Timestamp | None
    expires_at: Timestamp
    approved_at: Timestamp | None
    decided_at: Timestamp | None
    rejection_reason: str | None
    failure_reason: str | None
    transaction_id: int | None

    @classmethod
    def of(cls, payment: PaymentRow) -> Payment:
        external = payment.beneficiary_account is None
        return cls(
            id=payment.id,
            status=payment.status,
            from_account=payment.from_account.number,
            to_account=None if external else payment.beneficiary_account.number,
            beneficiary=Beneficiary(
                name=payment.beneficiary_name or "",
                iban=payment.beneficiary_iban or "",
                bic=payment.beneficiary_bic,
            )
            if external
            else None,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
            reference=payment.reference,
            created_at=payment.created_at,
            updated_at=payment.updated_at,
            confirmed_at=payment.confirmed_at,
            expires_at=payment.expires_at,
            approved_at=payment.approved_at,
            decided_at=payment.decided_at,
            rejection_reason=payment.rejection_reason,
            failure_reason=payment.failure_reason,
            transaction_id=payment.transaction_id,
        )


class PaymentPage(Shape):
    items: list[Payment]
    next_cursor: NextCursor


class Me(Shape):
    """The key's user and what this key may do."""

    email: str
    roles: list[str]
    scopes: list[str]
    permissions: Annotated[
        list[str], Field(description="the user's permissions, narrowed by the key's scopes")
    ]


class OpenApiDocument(BaseModel):
    """This document (only its version is checked here)."""

    model_config = ConfigDict(extra="allow")

    openapi: str
