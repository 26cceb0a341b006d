"""Sign-in identities: staff (admins) and customers' logins."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vaulta.models.base import Base, CreatedAtMixin, in_list

if TYPE_CHECKING:
    from vaulta.models.customer import Customer

ROLE_ADMIN = "admin"
ROLE_CUSTOMER = "customer"
ROLES = (ROLE_ADMIN, ROLE_CUSTOMER)


def new_session_token() -> str:
    """A fresh random session identifier; rotating it ends every session of the user."""
    return secrets.token_urlsafe(32)


class User(CreatedAtMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(in_list("role", ROLES), name="role"),
        sa.CheckConstraint("role = 'customer' OR customer_id IS NULL", name="admin_no_customer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16))
    full_name: Mapped[str] = mapped_column(sa.String(200))
    customer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="RESTRICT"), index=True
    )
    is_active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]
    session_token: Mapped[str] = mapped_column(
        sa.String(64), unique=True, default=new_session_token
    )

    customer: Mapped[Customer | None] = relationship(back_populates="users")

    # Flask-Login protocol. The session stores the rotating token, never the primary key,
    # so rotating it signs the user out everywhere.
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"
