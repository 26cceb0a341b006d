"""inbox exports, change-request reminders and the decided-at index

Three small changes for the inbox's exports, reminders and dashboard (issues 17 and 18):

- ``export_jobs``: ``ck_export_jobs_kind`` also allows ``inbox`` and ``my_requests`` (the
  inbox's and the maker's own change requests as CSV/XLSX).
- ``notifications``: a reminder may be about a change request: new nullable
  ``change_request_id`` (``fk_notifications_change_request_id_change_requests``, ON DELETE
  CASCADE), ``payment_id`` becomes nullable, ``ck_notifications_one_subject`` requires
  exactly one of the two, ``uq_notifications_change_request_id_kind`` keeps a reminder to
  one per request, and ``ck_notifications_kind_known`` adds ``change_request.reminder``.
  Existing rows all have a payment, so they satisfy the new check.
- ``change_requests``: ``ix_change_requests_decided_at`` for the dashboard's weekly time
  to decision (a range over ``decided_at``; the backlog uses the existing
  ``ix_change_requests_status_created_at``).

SQLite rebuilds ``notifications`` and ``export_jobs`` (batch mode); PostgreSQL alters them in
place (the check constraints are validated against existing rows, both tables are small).

Downgrade deletes change-request notifications first (they have no payment), then
restores the previous constraints; export jobs of the new kinds are deleted too (their
files are purged as strays by the hourly purge).

Revision ID: 6a1d2c9e7b40
Revises: 310f1db5fa66
Create Date: 2026-12-02 14:00:00.000000+00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "6a1d2c9e7b40"
down_revision = "310f1db5fa66"
branch_labels = None
depends_on = None

OLD_EXPORT_KINDS = "kind IN ('transactions', 'audit_log')"
NEW_EXPORT_KINDS = "kind IN ('transactions', 'audit_log', 'inbox', 'my_requests')"
OLD_NOTIFICATION_KINDS = "kind IN ('payment.executed', 'payment.rejected', 'approval.reminder')"
NEW_NOTIFICATION_KINDS = (
    "kind IN ('payment.executed', 'payment.rejected', 'approval.reminder',"
    " 'change_request.reminder')"
)
ONE_SUBJECT = "(payment_id IS NULL) <> (change_request_id IS NULL)"

export_jobs = sa.table("export_jobs", sa.column("kind", sa.String))
notifications = sa.table("notifications", sa.column("change_request_id", sa.Integer))


def upgrade():
    with op.batch_alter_table("export_jobs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_export_jobs_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_export_jobs_kind"), NEW_EXPORT_KINDS)

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("change_request_id", sa.Integer(), nullable=True))
        batch_op.alter_column("payment_id", existing_type=sa.Integer(), nullable=True)
        batch_op.drop_constraint(op.f("ck_notifications_kind_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_notifications_kind_known"), NEW_NOTIFICATION_KINDS
        )
        batch_op.create_check_constraint(op.f("ck_notifications_one_subject"), ONE_SUBJECT)
        batch_op.create_foreign_key(
            op.f("fk_notifications_change_request_id_change_requests"),
            "change_requests",
            ["change_request_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_unique_constraint(
            op.f("uq_notifications_change_request_id_kind"), ["change_request_id", "kind"]
        )

    with op.batch_alter_table("change_requests", schema=None) as batch_op:
        batch_op.create_index(op.f("ix_change_requests_decided_at"), ["decided_at"], unique=False)


def downgrade():
    with op.batch_alter_table("change_requests", schema=None) as batch_op:
        batch_op.drop_index(op.f("ix_change_requests_decided_at"))

    op.execute(notifications.delete().where(notifications.c.change_request_id.is_not(None)))
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_notifications_change_request_id_kind"), type_="unique")
        batch_op.drop_constraint(
            op.f("fk_notifications_change_request_id_change_requests"), type_="foreignkey"
        )
        batch_op.drop_constraint(op.f("ck_notifications_one_subject"), type_="check")
        batch_op.drop_constraint(op.f("ck_notifications_kind_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_notifications_kind_known"), OLD_NOTIFICATION_KINDS
        )
        batch_op.alter_column("payment_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("change_request_id")

    op.execute(export_jobs.delete().where(export_jobs.c.kind.in_(("inbox", "my_requests"))))
    with op.batch_alter_table("export_jobs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_export_jobs_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_export_jobs_kind"), OLD_EXPORT_KINDS)
