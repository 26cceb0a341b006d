"""initial schema

The schema as VAULTA first shipped it: users, one-time passcodes, API keys, customers,
accounts, transactions and payments. Three later changes come as their own revisions:
transactions.description, the payments approval fields and payments.transaction_id.

Revision ID: cd9d96d51db8
Revises:
Create Date: 2026-11-02 09:00:00+00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "cd9d96d51db8"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_number", sa.String(length=12), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'suspended', 'closed')", name=op.f("ck_customers_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("customer_number", name=op.f("uq_customers_customer_number")),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=12), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(kind = 'system' AND customer_id IS NULL) OR (kind = 'customer' AND customer_id IS NOT NULL)",
            name=op.f("ck_accounts_owner_matches_kind"),
        ),
        sa.CheckConstraint(
            "kind = 'system' OR balance_minor >= 0", name=op.f("ck_accounts_customer_not_negative")
        ),
        sa.CheckConstraint("kind IN ('customer', 'system')", name=op.f("ck_accounts_kind")),
        sa.CheckConstraint(
            "status IN ('active', 'frozen', 'closed')", name=op.f("ck_accounts_status")
        ),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_accounts_currency_code")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_accounts_customer_id_customers"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("number", name=op.f("uq_accounts_number")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(
            "uq_accounts_system_currency",
            ["currency"],
            unique=True,
            sqlite_where=sa.text("kind = 'system'"),
            postgresql_where=sa.text("kind = 'system'"),
        )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("session_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role = 'customer' OR customer_id IS NULL", name=op.f("ck_users_admin_no_customer")
        ),
        sa.CheckConstraint("role IN ('admin', 'customer')", name=op.f("ck_users_role")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_users_customer_id_customers"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("session_token", name=op.f("uq_users_session_token")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=128), nullable=False),
        sa.Column("last_four", sa.String(length=4), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_keys_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_user_id"), ["user_id"], unique=False)

    op.create_table(
        "otps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("code_hash", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_otps_attempts_non_negative")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_otps_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_otps")),
    )
    with op.batch_alter_table("otps", schema=None) as batch_op:
        batch_op.create_index(
            "ix_otps_user_id_purpose_subject", ["user_id", "purpose", "subject"], unique=False
        )

    op.create_table(
        "transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debit_account_id", sa.Integer(), nullable=False),
        sa.Column("credit_account_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=140), nullable=True),
        sa.Column("reverses_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('deposit', 'withdrawal', 'transfer', 'payment', 'reversal')",
            name=op.f("ck_transactions_kind"),
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_transactions_amount_positive")),
        sa.CheckConstraint(
            "debit_account_id <> credit_account_id", name=op.f("ck_transactions_distinct_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_transactions_created_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["credit_account_id"],
            ["accounts.id"],
            name=op.f("fk_transactions_credit_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["debit_account_id"],
            ["accounts.id"],
            name=op.f("fk_transactions_debit_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["transactions.id"],
            name=op.f("fk_transactions_reverses_id_transactions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transactions")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_transactions_idempotency_key")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_transactions_reverses_id")),
    )
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transactions_created_by_id"), ["created_by_id"], unique=False
        )
        batch_op.create_index(
            "ix_transactions_credit_account_id_id", ["credit_account_id", "id"], unique=False
        )
        batch_op.create_index(
            "ix_transactions_debit_account_id_id", ["debit_account_id", "id"], unique=False
        )

    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_account_id", sa.Integer(), nullable=False),
        sa.Column("beneficiary_account_id", sa.Integer(), nullable=True),
        sa.Column("beneficiary_name", sa.String(length=140), nullable=True),
        sa.Column("beneficiary_iban", sa.String(length=34), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reference", sa.String(length=140), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending_approval', 'executed', 'rejected', 'cancelled', 'expired', 'failed')",
            name=op.f("ck_payments_status"),
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payments_amount_positive")),
        sa.CheckConstraint(
            "beneficiary_account_id IS NOT NULL OR (beneficiary_name IS NOT NULL AND beneficiary_iban IS NOT NULL)",
            name=op.f("ck_payments_beneficiary"),
        ),
        sa.ForeignKeyConstraint(
            ["beneficiary_account_id"],
            ["accounts.id"],
            name=op.f("fk_payments_beneficiary_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["from_account_id"],
            ["accounts.id"],
            name=op.f("fk_payments_from_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_payments_requested_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payments_idempotency_key")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payments_from_account_id"), ["from_account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payments_requested_by_id"), ["requested_by_id"], unique=False
        )
        batch_op.create_index(
            "ix_payments_status_created_at", ["status", "created_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_status_created_at")
        batch_op.drop_index(batch_op.f("ix_payments_requested_by_id"))
        batch_op.drop_index(batch_op.f("ix_payments_from_account_id"))

    op.drop_table("payments")
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_transactions_debit_account_id_id")
        batch_op.drop_index("ix_transactions_credit_account_id_id")
        batch_op.drop_index(batch_op.f("ix_transactions_created_by_id"))

    op.drop_table("transactions")
    with op.batch_alter_table("otps", schema=None) as batch_op:
        batch_op.drop_index("ix_otps_user_id_purpose_subject")

    op.drop_table("otps")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_user_id"))

    op.drop_table("api_keys")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_customer_id"))

    op.drop_table("users")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_accounts_system_currency",
            sqlite_where=sa.text("kind = 'system'"),
            postgresql_where=sa.text("kind = 'system'"),
        )
        batch_op.drop_index(batch_op.f("ix_accounts_customer_id"))

    op.drop_table("accounts")
    op.drop_table("customers")
