"""Business events: written to the outbox with the change (``emit``), their data models."""

from vaulta.services.events.outbox import emit, emit_payment, emit_rows, event_row, payment_row
from vaulta.services.events.payloads import (
    EVENT_TYPES,
    AccountData,
    ConversionData,
    CustomerData,
    HoldData,
    PaymentBatchData,
    PaymentData,
    StandingOrderData,
    StandingOrderRunData,
    TransactionData,
)

__all__ = [
    "EVENT_TYPES",
    "AccountData",
    "ConversionData",
    "CustomerData",
    "HoldData",
    "PaymentBatchData",
    "PaymentData",
    "StandingOrderData",
    "StandingOrderRunData",
    "TransactionData",
    "emit",
    "emit_payment",
    "emit_rows",
    "event_row",
    "payment_row",
]
