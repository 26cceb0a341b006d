"""VAULTA's models. Importing this package registers every table on ``Base.metadata``."""

from vaulta.models.account import Account
from vaulta.models.api import ApiIdempotencyKey
from vaulta.models.audit import AuditChainHead, AuditEvent
from vaulta.models.base import Base, utcnow
from vaulta.models.change_request import ApprovalPolicy, ChangeDecision, ChangeRequest
from vaulta.models.customer import Customer
from vaulta.models.event import OutboxEvent
from vaulta.models.export_job import ExportJob
from vaulta.models.figure_counter import FigureCounter
from vaulta.models.fx import FxConversion, FxQuote, FxRate
from vaulta.models.hold import Hold
from vaulta.models.maintenance import MaintenanceMode
from vaulta.models.notification import Notification
from vaulta.models.payment import Payment
from vaulta.models.payment_batch import PaymentBatchLine
from vaulta.models.posting import Posting
from vaulta.models.security import OTP, ApiKey
from vaulta.models.standing_order import StandingOrder, StandingOrderRun
from vaulta.models.statement import MonthlyStatement
from vaulta.models.transaction import Transaction
from vaulta.models.user import User, UserRole
from vaulta.models.webhook import WebhookAttempt, WebhookDelivery, WebhookEndpoint

# The metadata every migration is compared against (env.py imports this package).
metadata = Base.metadata

__all__ = [
    "OTP",
    "Account",
    "ApiIdempotencyKey",
    "ApiKey",
    "ApprovalPolicy",
    "AuditChainHead",
    "AuditEvent",
    "Base",
    "ChangeDecision",
    "ChangeRequest",
    "Customer",
    "ExportJob",
    "FigureCounter",
    "FxConversion",
    "FxQuote",
    "FxRate",
    "Hold",
    "MaintenanceMode",
    "MonthlyStatement",
    "Notification",
    "OutboxEvent",
    "Payment",
    "PaymentBatchLine",
    "Posting",
    "StandingOrder",
    "StandingOrderRun",
    "Transaction",
    "User",
    "UserRole",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "metadata",
    "utcnow",
]
