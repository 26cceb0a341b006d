"""The data of every business event: one pydantic model per kind, the schema receivers see.

``EVENT_TYPES`` maps each event type to its model. The OpenAPI document lists each model
under ``components.schemas`` (``vaulta/api/openapi.py``), and a webhook's body is
``{"type", "timestamp", "data"}`` with ``data`` one of these (docs/architecture.md "Events").
Amounts are integer minor units with their ISO currency, never floats.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EventData(BaseModel):
    """Base of every event's data: frozen, no extra keys; ``model_validate(orm_object)`` works."""

    model_config = ConfigDict(frozen=True, extra="forbid", from_attributes=True)


class PaymentData(EventData):
    """A payment at the moment of the event (``payment.*``)."""

    id: int
    status: str
    amount_minor: int = Field(description="Integer minor units of the currency.")
    currency: str = Field(min_length=3, max_length=3)
    reference: str
    transaction_id: int | None = Field(None, description="The posting, once executed.")
    reason: str | None = Field(None, description="Why it was rejected or failed.")


class TransactionData(EventData):
    """A posted ledger transaction (``transaction.posted``): money moved debit → credit."""

    id: int
    kind: str
    amount_minor: int
    currency: str = Field(min_length=3, max_length=3)
    debit_account: str = Field(description="Account number debited.")
    credit_account: str = Field(description="Account number credited.")
    description: str
    reference: str | None = None
    reverses_id: int | None = None


class HoldData(EventData):
    """A hold on an account (``hold.placed``, ``.captured``, ``.released``, ``.expired``):
    ``amount_minor`` reserved until captured (``captured_minor`` posted as
    ``transaction_id``, the rest released), released or expired at ``expires_at``."""

    id: int
    account: str = Field(description="Account number the amount is held on.")
    status: str = Field(description="active, captured, released or expired.")
    amount_minor: int = Field(description="Integer minor units of the currency.")
    currency: str = Field(min_length=3, max_length=3)
    captured_minor: int = Field(0, description="Posted by the capture, minor units.")
    reason: str
    expires_at: datetime
    payment_id: int | None = Field(None, description="The payment it reserves for, if any.")
    transaction_id: int | None = Field(None, description="The capture's entry.")


class AccountData(EventData):
    """An account (``account.opened``, ``.frozen``, ``.unfrozen``, ``.closed``,
    ``.debit_blocked``, ``.credit_blocked``, ``.unblocked``)."""

    id: int
    number: str
    customer_id: int | None
    currency: str = Field(min_length=3, max_length=3)
    status: str


class CustomerData(EventData):
    """A customer (``customer.created``, ``customer.updated``, ``customer.suspended`` …).

    Contact details are not sent: ``changed`` names the fields an update changed."""

    id: int
    customer_number: str
    status: str
    changed: list[str] = Field(default_factory=list)


class ChangeRequestData(EventData):
    """A change request (``change_request.created``, ``change_request.decided``).

    ``decided`` is sent for every decision: an approval of one level (status still
    ``pending``), the last approval (``approved``, with ``result``), a rejection, a
    failure at execution, a cancellation by the maker or an expiry. The change itself
    (before/after) is not sent: fetch the request for it."""

    id: int
    action: str
    status: str
    target_type: str
    target_id: int | None = None
    customer_id: int | None = None
    amount_minor: int | None = Field(None, description="Integer minor units, money actions only.")
    currency: str | None = Field(None, min_length=3, max_length=3)
    levels_required: int
    levels_approved: int
    policy_version: int | None = None
    decision: str | None = Field(
        None, description="approve, reject, cancel or expire (decided events only)."
    )
    result: dict[str, Any] | None = Field(None, description="What execution produced.")
    reason: str | None = Field(None, description="Why it was rejected or failed.")


class PaymentBatchData(EventData):
    """A payment file's batch (``payment_batch.created`` when its change request is made,
    ``payment_batch.executed`` when the approved batch ran: how many lines executed and
    failed). ``id`` is the change request's id; each line's payment has its own
    ``payment.created`` and ``payment.executed`` events."""

    id: int
    account_number: str
    customer_id: int | None = None
    status: str
    lines: int
    amount_minor: int = Field(description="The total of the lines, integer minor units.")
    currency: str = Field(min_length=3, max_length=3)
    executed: int | None = None
    failed: int | None = None


class StandingOrderData(EventData):
    """A standing order (``standing_order.created``): a recurring payment from ``from_account``
    to a VAULTA account (``to_account``) or an external IBAN, weekly or monthly from
    ``first_date`` (monthly on day 29 to 31: the month's last day when it is shorter)."""

    id: int
    customer_id: int
    status: str = Field(description="active, paused, cancelled or completed.")
    from_account: str = Field(description="Account number that pays.")
    to_account: str | None = Field(None, description="VAULTA account number paid.")
    beneficiary_iban: str | None = Field(None, description="External beneficiary's IBAN.")
    amount_minor: int = Field(description="Integer minor units of the currency.")
    currency: str = Field(min_length=3, max_length=3)
    reference: str
    frequency: str = Field(description="weekly or monthly.")
    first_date: date
    end_date: date | None = None
    max_runs: int | None = Field(None, description="How many runs at most.")
    next_due_date: date | None = None


class StandingOrderRunData(EventData):
    """One run of a standing order on one due date (``standing_order.run``), made once:
    ``created`` (``payment_id``: the payment, which then awaits approval like any other),
    ``failed`` (``error``: why the payment was refused; the customer is mailed) or
    ``skipped`` (missed by more than STANDING_ORDER_CATCH_UP_DAYS while no worker ran)."""

    standing_order_id: int
    due_date: date
    status: str = Field(description="created, failed or skipped.")
    payment_id: int | None = None
    error: str | None = None


class ConversionData(EventData):
    """A customer's currency conversion, posted (``conversion.executed``): one entry of four
    postings through the bank's FX position accounts (``transaction_id``)."""

    transaction_id: int
    quote_id: str = Field(description="The quote the customer confirmed.")
    customer_id: int
    from_account: str = Field(description="Account number debited, in from_currency.")
    to_account: str = Field(description="Account number credited, in to_currency.")
    from_amount_minor: int = Field(description="Integer minor units of from_currency.")
    from_currency: str = Field(min_length=3, max_length=3)
    to_amount_minor: int = Field(description="Integer minor units of to_currency.")
    to_currency: str = Field(min_length=3, max_length=3)
    rate: str = Field(
        description="The customer's rate (to_currency per from_currency, after the spread) "
        "as a decimal string, rounded down to 12 places."
    )
    market_rate: str = Field(description="The registry's rate used, as a decimal string.")
    inverted: bool = Field(
        description="True when the registry had only the reverse pair: market rate = 1 / rate."
    )
    spread_bps: int = Field(description="The bank's spread in basis points.")


class WebhookTestData(EventData):
    """A test message an admin sent to an endpoint (``webhook.test``)."""

    endpoint_id: str
    message: str


EVENT_TYPES: dict[str, type[EventData]] = {
    "payment.created": PaymentData,
    "payment.executed": PaymentData,
    "payment.failed": PaymentData,
    "payment.rejected": PaymentData,
    "payment.expired": PaymentData,
    "payment.cancelled": PaymentData,
    "transaction.posted": TransactionData,
    "hold.placed": HoldData,
    "hold.captured": HoldData,
    "hold.released": HoldData,
    "hold.expired": HoldData,
    "account.opened": AccountData,
    "account.frozen": AccountData,
    "account.unfrozen": AccountData,
    "account.closed": AccountData,
    "account.debit_blocked": AccountData,
    "account.credit_blocked": AccountData,
    "account.unblocked": AccountData,
    "customer.created": CustomerData,
    "customer.updated": CustomerData,
    "customer.suspended": CustomerData,
    "customer.reactivated": CustomerData,
    "customer.closed": CustomerData,
    "change_request.created": ChangeRequestData,
    "change_request.decided": ChangeRequestData,
    "payment_batch.created": PaymentBatchData,
    "payment_batch.executed": PaymentBatchData,
    "standing_order.created": StandingOrderData,
    "standing_order.run": StandingOrderRunData,
    "conversion.executed": ConversionData,
    "webhook.test": WebhookTestData,
}


def schema_components() -> dict[str, dict[str, Any]]:
    """JSON Schemas of every event's data and of the webhook body, for OpenAPI components."""
    components: dict[str, dict[str, Any]] = {}
    for model in dict.fromkeys(EVENT_TYPES.values()):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components[model.__name__] = schema
    components["WebhookMessage"] = {
        "type": "object",
        "description": "The body of every webhook (Standard Webhooks): the event's type, "
        "when it occurred (RFC 3339) and its data. Its id is the webhook-id header.",
        "required": ["type", "timestamp", "data"],
        "properties": {
            "type": {"type": "string", "enum": sorted(EVENT_TYPES)},
            "timestamp": {"type": "string", "format": "date-time"},
            "data": {"oneOf": [{"$ref": f"#/components/schemas/{name}"} for name in components]},
        },
    }
    return components
