"""One-time passcodes: six digits from a CSPRNG, bound to a user, a purpose and a subject.

Only an HMAC-SHA256 of the code (keyed with SECRET_KEY) is stored. A code is valid for
OTP_TTL_SECONDS, is locked after OTP_MAX_ATTEMPTS wrong tries and can be used once.
Issuing a new code invalidates the older unused ones for the same user, purpose and subject.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from vaulta.models import OTP, User, utcnow
from vaulta.services.errors import InvalidInput
from vaulta.services.unit_of_work import write_transaction

PAYMENT_CONFIRM = "payment_confirm"
PAYMENT_APPROVE = "payment_approve"
CHANGE_APPROVE = "change_approve"  # subject: the change request's id
CODE_DIGITS = 6


def _hash(user_id: int, purpose: str, subject: str | None, code: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    message = f"{user_id}\x1f{purpose}\x1f{subject or ''}\x1f{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _unused(user_id: int, purpose: str, subject: str | None) -> sa.ColumnElement[bool]:
    return sa.and_(
        OTP.user_id == user_id,
        OTP.purpose == purpose,
        OTP.subject == subject,
        OTP.consumed_at.is_(None),
    )


def issue_in(
    s: Session, user: User, purpose: str, subject: str | None, *, now: datetime | None = None
) -> str:
    """Issue a code inside the caller's write transaction; return it (to be mailed)."""
    now = now or utcnow()
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    s.execute(
        sa.update(OTP)
        .where(_unused(user.id, purpose, subject), OTP.expires_at > now)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    s.add(
        OTP(
            user_id=user.id,
            purpose=purpose,
            subject=subject,
            code_hash=_hash(user.id, purpose, subject, code),
            expires_at=now + timedelta(seconds=current_app.config["OTP_TTL_SECONDS"]),
            attempts=0,
        )
    )
    return code


def issue(user: User, purpose: str, subject: str | None, *, now: datetime | None = None) -> str:
    """Issue a code in its own transaction; return it (to be mailed, never stored)."""
    with write_transaction() as s:
        return issue_in(s, user, purpose, subject, now=now)


def verify(
    user: User, purpose: str, subject: str | None, code: str, *, now: datetime | None = None
) -> None:
    """Consume the latest code for (user, purpose, subject) or raise InvalidInput on ``code``.

    A wrong code counts as an attempt, and that count is committed although the
    verification fails.
    """
    now = now or utcnow()
    maximum = current_app.config["OTP_MAX_ATTEMPTS"]
    code = (code or "").strip()
    with write_transaction() as s:
        otp = s.scalar(
            sa.select(OTP)
            .where(_unused(user.id, purpose, subject))
            .order_by(OTP.id.desc())
            .limit(1)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        outcome = _check(s, otp, user, purpose, subject, code, now, maximum)
    if outcome is not None:
        raise InvalidInput(outcome, field="code")


def _check(
    s: Session,
    otp: OTP | None,
    user: User,
    purpose: str,
    subject: str | None,
    code: str,
    now: datetime,
    maximum: int,
) -> str | None:
    """None when the code is consumed now; otherwise why it was refused."""
    if otp is None:
        return "There is no valid code for this: ask for a new one."
    if otp.expires_at <= now:
        return "This code has expired: ask for a new one."
    if otp.attempts >= maximum:
        return "Too many wrong codes: ask for a new one."
    expected = _hash(user.id, purpose, subject, code)
    if not hmac.compare_digest(otp.code_hash, expected):
        s.execute(
            sa.update(OTP)
            .where(OTP.id == otp.id)
            .values(attempts=OTP.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        left = maximum - otp.attempts - 1
        if left <= 0:
            return "Too many wrong codes: ask for a new one."
        return f"That code is not right: {left} {'try' if left == 1 else 'tries'} left."
    consumed = s.execute(
        sa.update(OTP)
        .where(OTP.id == otp.id, OTP.consumed_at.is_(None), OTP.attempts < maximum)
        .values(consumed_at=now)
        .execution_options(synchronize_session=False)
    )
    if consumed.rowcount != 1:
        return "This code has already been used: ask for a new one."
    return None
