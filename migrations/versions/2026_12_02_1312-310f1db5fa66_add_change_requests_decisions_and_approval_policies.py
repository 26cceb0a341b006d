"""add change requests, decisions and approval policies

Four eyes on every money movement and sensitive change (issue 15): ``change_requests``
(what a maker asked for, the policy that applied, its status; ``ck_change_requests_*``,
``uq_change_requests_idempotency_key`` and the partial unique index
``uq_change_requests_dedupe_key_pending`` on ``dedupe_key WHERE status = 'pending'``, which
refuses a second pending request for the same action on the same object),
``change_decisions`` (one row per approver and level: ``uq_change_decisions_request_id_decider_id``,
``uq_change_decisions_request_id_level``) and ``approval_policies`` (versioned: one
current version per name, ``uq_approval_policies_name_current``).

Data: the default policies, version 1, created by nobody (docs/architecture.md "Change
requests"): every action needs one approver other than the maker; a money movement of
10,000.00 or more (1,000,000 minor units, any currency), or one that brings the same
customer's money requests of the last 24 hours to that much, needs two distinct approvers
and a step-up code at level 2, never in bulk; a change to the policies needs two.

Downgrade drops the three tables (requests still pending are lost with them).

Revision ID: 310f1db5fa66
Revises: 3f1c0a7e5b21
Create Date: 2026-12-02 13:12:17.947099+00:00

"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "310f1db5fa66"
down_revision = "3f1c0a7e5b21"
branch_labels = None
depends_on = None


class JSONLiteral(sa.types.TypeDecorator[object]):
    """JSON that offline SQL (``flask db upgrade --sql``) can render as a quoted literal."""

    impl = sa.JSON
    cache_ok = True

    def process_literal_param(self, value: object, dialect: object) -> str:
        return "'" + json.dumps(value).replace("'", "''") + "'"


approval_policies = sa.table(
    "approval_policies",
    sa.column("name", sa.String),
    sa.column("version", sa.Integer),
    sa.column("is_current", sa.Boolean),
    sa.column("enabled", sa.Boolean),
    sa.column("description", sa.String),
    sa.column("action", sa.String),
    sa.column("priority", sa.Integer),
    sa.column("min_amount_minor", sa.BigInteger),
    sa.column("cumulative_window_hours", sa.Integer),
    sa.column("cumulative_threshold_minor", sa.BigInteger),
    sa.column("cumulative_by", sa.String),
    sa.column("levels", sa.Integer),
    sa.column("roles_per_level", JSONLiteral),
    sa.column("step_up_levels", JSONLiteral),
    sa.column("bulk_allowed", sa.Boolean),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
LARGE_MINOR = 1_000_000  # 10,000.00 in a two-decimal currency
TWO_APPROVERS = [["approver"], ["approver"]]
DEFAULT_POLICIES = [
    {
        "name": "default",
        "description": "Every action: one approver other than the maker.",
        "action": "*",
        "priority": 0,
        "min_amount_minor": None,
        "cumulative_window_hours": None,
        "cumulative_threshold_minor": None,
        "cumulative_by": None,
        "levels": 1,
        "roles_per_level": [["approver"]],
        "step_up_levels": [],
        "bulk_allowed": True,
    },
    {
        "name": "money-large",
        "description": "Money movements of 10,000.00 or more: two approvers, step-up at level 2.",
        "action": "money",
        "priority": 10,
        "min_amount_minor": LARGE_MINOR,
        "cumulative_window_hours": None,
        "cumulative_threshold_minor": None,
        "cumulative_by": None,
        "levels": 2,
        "roles_per_level": TWO_APPROVERS,
        "step_up_levels": [2],
        "bulk_allowed": False,
    },
    {
        "name": "money-customer-24h",
        "description": "A customer's money movements reaching 10,000.00 in 24 hours: "
        "two approvers, step-up at level 2.",
        "action": "money",
        "priority": 10,
        "min_amount_minor": None,
        "cumulative_window_hours": 24,
        "cumulative_threshold_minor": LARGE_MINOR,
        "cumulative_by": "customer",
        "levels": 2,
        "roles_per_level": TWO_APPROVERS,
        "step_up_levels": [2],
        "bulk_allowed": False,
    },
    {
        "name": "policy-changes",
        "description": "A change to the approval policies: two approvers.",
        "action": "policies.update",
        "priority": 10,
        "min_amount_minor": None,
        "cumulative_window_hours": None,
        "cumulative_threshold_minor": None,
        "cumulative_by": None,
        "levels": 2,
        "roles_per_level": TWO_APPROVERS,
        "step_up_levels": [],
        "bulk_allowed": False,
    },
]


def _seed_default_policies() -> None:
    now = datetime.now(UTC)
    if op.get_context().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # stored as UTC text without an offset (UTCDateTime)
    op.bulk_insert(
        approval_policies,
        [
            {
                **policy,
                "version": 1,
                "is_current": True,
                "enabled": True,
                "created_at": now,
            }
            for policy in DEFAULT_POLICIES
        ],
    )


def upgrade():
    op.create_table(
        "approval_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("min_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("cumulative_window_hours", sa.Integer(), nullable=True),
        sa.Column("cumulative_threshold_minor", sa.BigInteger(), nullable=True),
        sa.Column("cumulative_by", sa.String(length=16), nullable=True),
        sa.Column("account_kind", sa.String(length=16), nullable=True),
        sa.Column("levels", sa.Integer(), nullable=False),
        sa.Column("roles_per_level", sa.JSON(), nullable=False),
        sa.Column("step_up_levels", sa.JSON(), nullable=False),
        sa.Column("bulk_allowed", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "cumulative_by IS NULL OR cumulative_by IN ('customer', 'maker', 'beneficiary')",
            name=op.f("ck_approval_policies_cumulative_by"),
        ),
        sa.CheckConstraint(
            "(cumulative_window_hours IS NULL AND cumulative_threshold_minor IS NULL AND cumulative_by IS NULL) OR (cumulative_window_hours > 0 AND cumulative_threshold_minor > 0 AND cumulative_by IS NOT NULL)",
            name=op.f("ck_approval_policies_cumulative_complete"),
        ),
        sa.CheckConstraint(
            "currency IS NULL OR length(currency) = 3",
            name=op.f("ck_approval_policies_currency_code"),
        ),
        sa.CheckConstraint(
            "levels >= 0 AND levels <= 3", name=op.f("ck_approval_policies_levels_range")
        ),
        sa.CheckConstraint(
            "min_amount_minor IS NULL OR min_amount_minor >= 0",
            name=op.f("ck_approval_policies_min_amount_not_negative"),
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_approval_policies_version_positive")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_approval_policies_created_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_policies")),
        sa.UniqueConstraint("name", "version", name="uq_approval_policies_name_version"),
    )
    with op.batch_alter_table("approval_policies", schema=None) as batch_op:
        batch_op.create_index(
            "uq_approval_policies_name_current",
            ["name"],
            unique=True,
            sqlite_where=sa.text("is_current"),
            postgresql_where=sa.text("is_current"),
        )

    op.create_table(
        "change_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("account_kind", sa.String(length=16), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("beneficiary", sa.String(length=140), nullable=True),
        sa.Column("change", sa.JSON(), nullable=False),
        sa.Column("summary", sa.String(length=200), nullable=False),
        sa.Column("maker_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("policy_version", sa.Integer(), nullable=True),
        sa.Column("levels_required", sa.Integer(), nullable=False),
        sa.Column("levels_approved", sa.Integer(), nullable=False),
        sa.Column("roles_per_level", sa.JSON(), nullable=False),
        sa.Column("step_up_levels", sa.JSON(), nullable=False),
        sa.Column("bulk_allowed", sa.Boolean(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column("idempotency_key", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'expired', 'cancelled', 'failed')",
            name=op.f("ck_change_requests_status"),
        ),
        sa.CheckConstraint(
            "(amount_minor IS NULL) = (currency IS NULL)",
            name=op.f("ck_change_requests_amount_with_currency"),
        ),
        sa.CheckConstraint(
            "amount_minor IS NULL OR amount_minor > 0",
            name=op.f("ck_change_requests_amount_positive"),
        ),
        sa.CheckConstraint(
            "levels_approved >= 0 AND levels_approved <= levels_required",
            name=op.f("ck_change_requests_levels_approved_range"),
        ),
        sa.CheckConstraint(
            "levels_required >= 0 AND levels_required <= 3",
            name=op.f("ck_change_requests_levels_range"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_change_requests_customer_id_customers"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["maker_id"],
            ["users.id"],
            name=op.f("fk_change_requests_maker_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["approval_policies.id"],
            name=op.f("fk_change_requests_policy_id_approval_policies"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_requests")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_change_requests_idempotency_key")),
    )
    with op.batch_alter_table("change_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_change_requests_customer_id_created_at", ["customer_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_change_requests_maker_id_status", ["maker_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_change_requests_status_created_at", ["status", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_change_requests_status_expires_at", ["status", "expires_at"], unique=False
        )
        batch_op.create_index(
            "uq_change_requests_dedupe_key_pending",
            ["dedupe_key"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )

    op.create_table(
        "change_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("decider_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("step_up_used", sa.Boolean(), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "decision IN ('approve', 'reject')", name=op.f("ck_change_decisions_decision")
        ),
        sa.CheckConstraint(
            "level >= 1 AND level <= 3", name=op.f("ck_change_decisions_level_range")
        ),
        sa.ForeignKeyConstraint(
            ["decider_id"],
            ["users.id"],
            name=op.f("fk_change_decisions_decider_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["change_requests.id"],
            name=op.f("fk_change_decisions_request_id_change_requests"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_decisions")),
        sa.UniqueConstraint(
            "request_id", "decider_id", name="uq_change_decisions_request_id_decider_id"
        ),
        sa.UniqueConstraint("request_id", "level", name="uq_change_decisions_request_id_level"),
    )
    with op.batch_alter_table("change_decisions", schema=None) as batch_op:
        batch_op.create_index("ix_change_decisions_decider_id", ["decider_id"], unique=False)

    _seed_default_policies()


def downgrade():
    with op.batch_alter_table("change_decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_change_decisions_decider_id")

    op.drop_table("change_decisions")
    with op.batch_alter_table("change_requests", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_change_requests_dedupe_key_pending",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
        batch_op.drop_index("ix_change_requests_status_expires_at")
        batch_op.drop_index("ix_change_requests_status_created_at")
        batch_op.drop_index("ix_change_requests_maker_id_status")
        batch_op.drop_index("ix_change_requests_customer_id_created_at")

    op.drop_table("change_requests")
    with op.batch_alter_table("approval_policies", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_approval_policies_name_current",
            sqlite_where=sa.text("is_current"),
            postgresql_where=sa.text("is_current"),
        )

    op.drop_table("approval_policies")
