"""add user_roles, staff logins

Staff permissions come from roles now (vaulta/services/identity/permissions.py), and a staff
login may hold several: the new ``user_roles`` table (composite key ``pk_user_roles`` on
user and role, ``ck_user_roles_role``, ``fk_user_roles_user_id_users`` cascading,
``fk_user_roles_granted_by_id_users``) is their one source of truth. ``users.role`` stays,
as the kind of login: ``admin`` becomes ``staff`` (``ck_users_role`` is re-created for
the new values).

Data: every ``admin`` login gets the ``admin`` role, granted when the login was created,
so nobody gains or loses anything.

Downgrade: staff logins become ``admin`` again. The old schema cannot say "teller",
"approver" or "auditor", and an old ``admin`` may do everything, so staff logins that do
not hold the admin role are deactivated (``is_active`` false) rather than promoted; the
upgrade after that does not reactivate them. Then the table goes.

Revision ID: 3f1c0a7e5b21
Revises: 9303079a1018
Create Date: 2026-12-02 09:59:25.709352+00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "3f1c0a7e5b21"
down_revision = "9303079a1018"
branch_labels = None
depends_on = None

users = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("role", sa.String),
    sa.column("is_active", sa.Boolean),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
user_roles = sa.table(
    "user_roles",
    sa.column("user_id", sa.Integer),
    sa.column("role", sa.String),
    sa.column("granted_at", sa.DateTime(timezone=True)),
)


def _replace_role_check(values: str) -> None:
    """Re-create ``ck_users_role`` for ``values``. Validated at once: the DROP CONSTRAINT
    and the UPDATE before it hold the table's lock until the commit anyway, so NOT VALID
    then VALIDATE would buy nothing (``users`` is small; docs/deploy.md)."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_check_constraint(batch_op.f("ck_users_role"), f"role IN ({values})")


def _drop_role_check() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_users_role"), type_="check")


def upgrade():
    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "role IN ('admin', 'approver', 'teller', 'auditor')", name=op.f("ck_user_roles_role")
        ),
        sa.ForeignKeyConstraint(
            ["granted_by_id"],
            ["users.id"],
            name=op.f("fk_user_roles_granted_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("pk_user_roles")),
    )
    op.execute(
        user_roles.insert().from_select(
            ["user_id", "role", "granted_at"],
            sa.select(users.c.id, sa.literal("admin"), users.c.created_at).where(
                users.c.role == "admin"
            ),
        )
    )
    _drop_role_check()
    op.execute(users.update().where(users.c.role == "admin").values(role="staff"))
    _replace_role_check("'staff', 'customer'")


def downgrade():
    holds_admin = (
        sa.select(user_roles.c.user_id)
        .where(user_roles.c.user_id == users.c.id, user_roles.c.role == "admin")
        .exists()
    )
    op.execute(
        users.update().where(users.c.role == "staff", ~holds_admin).values(is_active=sa.false())
    )
    _drop_role_check()
    op.execute(users.update().where(users.c.role == "staff").values(role="admin"))
    _replace_role_check("'admin', 'customer'")
    op.drop_table("user_roles")
