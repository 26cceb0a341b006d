"""Secrets held for users: one-time passcodes, API keys and recovery codes (only hashes are
stored)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from vaulta.models.base import Base, CreatedAtMixin


class OTP(CreatedAtMixin, Base):
    """A one-time passcode: bound to a user, a purpose and optionally a subject."""

    __tablename__ = "otps"
    __table_args__ = (
        sa.CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        sa.Index("ix_otps_user_id_purpose_subject", "user_id", "purpose", "subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(sa.String(32))
    subject: Mapped[str | None] = mapped_column(sa.String(64))
    code_hash: Mapped[str] = mapped_column(sa.String(255))
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    consumed_at: Mapped[datetime | None]


class ApiKey(CreatedAtMixin, Base):
    """A bearer key ``vk_<prefix>_<secret>``; the secret is stored only as a hash."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(sa.String(128))
    last_four: Mapped[str] = mapped_column(sa.String(4))
    scopes: Mapped[str] = mapped_column(sa.String(200))
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class RecoveryCode(CreatedAtMixin, Base):
    """A one-time code that stands in for an authenticator code; only its HMAC is stored."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    used_at: Mapped[datetime | None]
