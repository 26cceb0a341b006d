"""Sign-in identities: staff logins and customers' logins, and the staff roles they hold.

``users.role`` is the kind of login: ``staff`` (the back office) or ``customer`` (one
customer's login). What a staff login may do comes only from its roles in ``user_roles``
(vaulta/services/identity/permissions.py maps roles to permissions); a staff login with no
role may sign in and do nothing else.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vaulta.models.base import Base, CreatedAtMixin, in_list, utcnow

if TYPE_CHECKING:
    from vaulta.models.customer import Customer

# The kind of login (users.role). Before revision 3f1c0a7e5b21 staff logins were "admin".
ROLE_STAFF = "staff"
ROLE_CUSTOMER = "customer"
ROLES = (ROLE_STAFF, ROLE_CUSTOMER)
# Staff roles (user_roles.role); a staff login may hold several.
STAFF_ADMIN = "admin"
STAFF_APPROVER = "approver"
STAFF_TELLER = "teller"
STAFF_AUDITOR = "auditor"
STAFF_ROLES = (STAFF_ADMIN, STAFF_APPROVER, STAFF_TELLER, STAFF_AUDITOR)
# Second factor after the password: a mailed code or an authenticator app (TOTP).
TWO_FACTOR_EMAIL = "email"
TWO_FACTOR_TOTP = "totp"
TWO_FACTOR_METHODS = (TWO_FACTOR_EMAIL, TWO_FACTOR_TOTP)


def second_factor_of(role: str, two_factor_method: str | None) -> str | None:
    """The factor asked for after the password: staff always have one (mailed codes
    unless they enrolled an authenticator); customers only when they turned it on."""
    if two_factor_method is None and role == ROLE_STAFF:
        return TWO_FACTOR_EMAIL
    return two_factor_method


def new_session_token() -> str:
    """A fresh random session identifier; rotating it ends every session of the user."""
    return secrets.token_urlsafe(32)


class User(CreatedAtMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(in_list("role", ROLES), name="role"),
        # The name is from when staff logins were "admin"; renaming it would buy nothing.
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
    staff_roles: Mapped[list[UserRole]] = relationship(
        foreign_keys="UserRole.user_id",
        cascade="all, delete-orphan",
        order_by="UserRole.role",
        back_populates="user",
    )

    # What Flask-Login asks of its user (``is_active`` is the column above). The session
    # stores the rotating token, never the primary key, so rotating it signs the user out
    # everywhere.
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_staff(self) -> bool:
        """A back-office login (what it may do: its roles' permissions)."""
        return self.role == ROLE_STAFF

    @property
    def role_names(self) -> frozenset[str]:
        """The staff roles held (loaded on first use), or ``{"customer"}``."""
        if not self.is_staff:
            return frozenset({ROLE_CUSTOMER})
        return frozenset(r.role for r in self.staff_roles)

    @property
    def second_factor(self) -> str | None:
        return second_factor_of(self.role, self.two_factor_method)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class UserRole(Base):
    """One staff role held by one staff login: who granted it and when."""

    __tablename__ = "user_roles"
    __table_args__ = (sa.CheckConstraint(in_list("role", STAFF_ROLES), name="role"),)

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    # None: granted by a command-line tool or by the migration that created the table.
    granted_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )

    user: Mapped[User] = relationship(foreign_keys=[user_id], back_populates="staff_roles")

    def __repr__(self) -> str:
        return f"<UserRole {self.user_id} {self.role}>"
