"""Change requests (four eyes on every money movement and sensitive change), their
decisions, and the versioned approval policies that say how many approvers each needs.

- ``ChangeRequest``: what a maker asked for (action, object, the exact change), the
  policy that applied (id, version, levels, step-up levels, bulk) and its status.
- ``ChangeDecision``: one approver's approve or reject at one level, at most one per
  person and per level.
- ``ApprovalPolicy``: one version of a named rule; every edit inserts a new version and
  exactly one version per name is current.

The rules live in vaulta/services/changes/ (docs/architecture.md "Change requests").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vaulta.models.base import Base, CreatedAtMixin, in_list, utcnow
from vaulta.models.user import User

CR_PENDING = "pending"
CR_APPROVED = "approved"
CR_REJECTED = "rejected"
CR_EXPIRED = "expired"
CR_CANCELLED = "cancelled"
CR_FAILED = "failed"
CR_STATUSES = (CR_PENDING, CR_APPROVED, CR_REJECTED, CR_EXPIRED, CR_CANCELLED, CR_FAILED)

DECISION_APPROVE = "approve"
DECISION_REJECT = "reject"
DECISIONS = (DECISION_APPROVE, DECISION_REJECT)

# What a policy's cumulative condition sums by.
CUMULATIVE_BY = ("customer", "maker", "beneficiary")
# Policy ``action`` values that are not one action: every action, every money movement.
POLICY_ANY_ACTION = "*"
POLICY_MONEY_ACTIONS = "money"
MAX_LEVELS = 3


class ApprovalPolicy(Base):
    """One version of a named approval policy (conditions → levels, roles, step-up, bulk).

    The conditions of one policy all have to hold for it to match (an unset one always
    holds); the policy that applies is chosen in vaulta/services/changes/policies.py.
    """

    __tablename__ = "approval_policies"
    __table_args__ = (
        sa.UniqueConstraint("name", "version", name="uq_approval_policies_name_version"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
        sa.CheckConstraint(f"levels >= 0 AND levels <= {MAX_LEVELS}", name="levels_range"),
        sa.CheckConstraint(
            "min_amount_minor IS NULL OR min_amount_minor >= 0", name="min_amount_not_negative"
        ),
        sa.CheckConstraint("currency IS NULL OR length(currency) = 3", name="currency_code"),
        sa.CheckConstraint(
            "cumulative_by IS NULL OR " + in_list("cumulative_by", CUMULATIVE_BY),
            name="cumulative_by",
        ),
        sa.CheckConstraint(
            "(cumulative_window_hours IS NULL AND cumulative_threshold_minor IS NULL"
            " AND cumulative_by IS NULL) OR (cumulative_window_hours > 0"
            " AND cumulative_threshold_minor > 0 AND cumulative_by IS NOT NULL)",
            name="cumulative_complete",
        ),
        # One current version per name.
        sa.Index(
            "uq_approval_policies_name_current",
            "name",
            unique=True,
            sqlite_where=sa.text("is_current"),
            postgresql_where=sa.text("is_current"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    is_current: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    # A disabled current version keeps the name's history but never matches.
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    description: Mapped[str] = mapped_column(sa.String(200), default="")
    # An action name (``ledger.deposit``), ``*`` (every action) or ``money`` (every
    # request that moves money).
    action: Mapped[str] = mapped_column(sa.String(64))
    priority: Mapped[int] = mapped_column(sa.Integer, default=0)
    min_amount_minor: Mapped[int | None] = mapped_column(sa.BigInteger)
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    cumulative_window_hours: Mapped[int | None] = mapped_column(sa.Integer)
    cumulative_threshold_minor: Mapped[int | None] = mapped_column(sa.BigInteger)
    cumulative_by: Mapped[str | None] = mapped_column(sa.String(16))
    account_kind: Mapped[str | None] = mapped_column(sa.String(16))
    levels: Mapped[int] = mapped_column(sa.Integer)
    # One list of role names per level: roles_per_level[0] may decide level 1, …
    roles_per_level: Mapped[list[list[str]]] = mapped_column(sa.JSON)
    step_up_levels: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    bulk_allowed: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])


class ChangeRequest(CreatedAtMixin, Base):
    """A maker's request for one action, decided by other people as its policy requires."""

    __tablename__ = "change_requests"
    __table_args__ = (
        sa.CheckConstraint(in_list("status", CR_STATUSES), name="status"),
        sa.CheckConstraint("amount_minor IS NULL OR amount_minor > 0", name="amount_positive"),
        sa.CheckConstraint(
            "(amount_minor IS NULL) = (currency IS NULL)", name="amount_with_currency"
        ),
        sa.CheckConstraint(
            f"levels_required >= 0 AND levels_required <= {MAX_LEVELS}", name="levels_range"
        ),
        sa.CheckConstraint(
            "levels_approved >= 0 AND levels_approved <= levels_required",
            name="levels_approved_range",
        ),
        # A second pending request for the same action on the same object is refused.
        sa.Index(
            "uq_change_requests_dedupe_key_pending",
            "dedupe_key",
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        ),
        sa.Index("ix_change_requests_status_created_at", "status", "created_at"),
        sa.Index("ix_change_requests_status_expires_at", "status", "expires_at"),
        sa.Index("ix_change_requests_decided_at", "decided_at"),  # the dashboard's weeks
        sa.Index("ix_change_requests_maker_id_status", "maker_id", "status"),
        sa.Index("ix_change_requests_customer_id_created_at", "customer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(sa.String(64))
    target_type: Mapped[str] = mapped_column(sa.String(32))
    target_id: Mapped[int | None] = mapped_column(sa.Integer)
    customer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="RESTRICT")
    )
    account_kind: Mapped[str | None] = mapped_column(sa.String(16))
    amount_minor: Mapped[int | None] = mapped_column(sa.BigInteger)
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    beneficiary: Mapped[str | None] = mapped_column(sa.String(140))
    # {"before": {...}, "after": {...}, "params": {...}}: the diff shown, what executes.
    change: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    summary: Mapped[str] = mapped_column(sa.String(200))
    maker_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(sa.String(16), default=CR_PENDING)
    policy_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("approval_policies.id", ondelete="RESTRICT")
    )
    policy_version: Mapped[int | None] = mapped_column(sa.Integer)
    levels_required: Mapped[int] = mapped_column(sa.Integer)
    levels_approved: Mapped[int] = mapped_column(sa.Integer, default=0)
    # Copied from the policy that applied: who may decide each level, which need step-up.
    roles_per_level: Mapped[list[list[str]]] = mapped_column(sa.JSON)
    step_up_levels: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    bulk_allowed: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    expires_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    failure_reason: Mapped[str | None] = mapped_column(sa.Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200))
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)

    maker: Mapped[User] = relationship(foreign_keys=[maker_id])
    decisions: Mapped[list[ChangeDecision]] = relationship(
        back_populates="request", order_by="ChangeDecision.level"
    )

    @property
    def is_pending(self) -> bool:
        return self.status == CR_PENDING

    @property
    def next_level(self) -> int:
        """The level the next approval decides (1-based)."""
        return self.levels_approved + 1


class ChangeDecision(Base):
    """One person's decision on one level of a change request."""

    __tablename__ = "change_decisions"
    __table_args__ = (
        sa.UniqueConstraint(
            "request_id", "decider_id", name="uq_change_decisions_request_id_decider_id"
        ),
        sa.UniqueConstraint("request_id", "level", name="uq_change_decisions_request_id_level"),
        sa.CheckConstraint(in_list("decision", DECISIONS), name="decision"),
        sa.CheckConstraint(f"level >= 1 AND level <= {MAX_LEVELS}", name="level_range"),
        sa.Index("ix_change_decisions_decider_id", "decider_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("change_requests.id", ondelete="RESTRICT")
    )
    level: Mapped[int] = mapped_column(sa.Integer)
    decider_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    decision: Mapped[str] = mapped_column(sa.String(8))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    step_up_used: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    policy_version: Mapped[int | None] = mapped_column(sa.Integer)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)

    request: Mapped[ChangeRequest] = relationship(back_populates="decisions")
    decider: Mapped[User] = relationship(foreign_keys=[decider_id])
