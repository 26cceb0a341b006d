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
# Second factor after the password: a mailed code or an authenticator app (TOTP).
TWO_FACTOR_EMAIL = "email"
TWO_FACTOR_TOTP = "totp"
TWO_FACTOR_METHODS = (TWO_FACTOR_EMAIL, TWO_FACTOR_TOTP)


def second_factor_of(role: str, two_factor_method: str | None) -> str | None:
    """The factor asked for after the password: admins always have one (mailed codes
    unless they enrolled an authenticator); customers only when they turned it on."""
    if two_factor_method is None and role == ROLE_ADMIN:
        return TWO_FACTOR_EMAIL
    return two_factor_method


def new_session_token() -> str:
    """A fresh random session identifier; rotating it ends every session of the user."""
    return secrets.token_urlsafe(32)


class User(CreatedAtMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(in_list("role", ROLES), name="role"),
        sa.CheckConstraint("role = 'customer' OR customer_id IS NULL", name="admin_no_customer"),
        sa.CheckConstraint(
            "two_factor_method IS NULL OR " + in_list("two_factor_method", TWO_FACTOR_METHODS),
            name="two_factor_method",
        ),
        sa.CheckConstraint(
            "two_factor_method <> 'totp' OR totp_secret IS NOT NULL", name="totp_has_secret"
        ),
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

    # None: no second factor (admins then get mailed codes, see services/two_factor.py).
    two_factor_method: Mapped[str | None] = mapped_column(sa.String(8))
    # The TOTP shared secret (base32). It must be readable to check codes, so it is not a
    # hash: never shown after enrolment, never logged or audited (docs/security.md). Set
    # while enrolment is pending too; it counts only once two_factor_method is "totp".
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    # The last TOTP time step accepted: a code of that step or an earlier one is refused.
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)

    customer: Mapped[Customer | None] = relationship(back_populates="users")

    # What Flask-Login asks of its user (``is_active`` is the column above). The session
    # stores the rotating token, never the primary key, so rotating it signs the user out
    # everywhere.
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN

    @property
    def second_factor(self) -> str | None:
        return second_factor_of(self.role, self.two_factor_method)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"
