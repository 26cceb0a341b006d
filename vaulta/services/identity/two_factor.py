"""The second factor after the password: mailed codes, an authenticator app (TOTP) and
recovery codes.

- Mailed codes reuse ``otp`` (HMAC-only, OTP_TTL_SECONDS, OTP_MAX_ATTEMPTS, single use)
  with the purpose ``login_2fa`` and a subject the caller picks per sign-in attempt.
- TOTP (pyotp, RFC 6238, 30-second steps, 6 digits): a code of the current step ±1 is
  accepted, but only for a step later than ``users.totp_last_step``, which is updated in
  the same guarded UPDATE, so a code (or an older one) can never be used twice.
- Recovery codes: RECOVERY_CODE_COUNT one-time codes, shown once, stored as HMAC-SHA256
  keyed with SECRET_KEY; each may stand in for an authenticator code once.

``now()`` is the clock the TOTP checks read; tests replace it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from vaulta import mail
from vaulta.models import User, utcnow
from vaulta.models.security import RecoveryCode
from vaulta.models.user import TWO_FACTOR_EMAIL, TWO_FACTOR_TOTP
from vaulta.services import audit
from vaulta.services.errors import Conflict, Forbidden, InvalidInput
from vaulta.services.identity import otp, passwords
from vaulta.services.unit_of_work import session, write_transaction

LOGIN_PURPOSE = "login_2fa"
ENABLE_EMAIL_PURPOSE = "enable_2fa_email"
ISSUER = "VAULTA"
TOTP_INTERVAL = 30
VALID_WINDOW = 1  # steps either side of the current one (clock drift, typing time)
RECOVERY_CODE_COUNT = 10
WRONG_CODE = "That code is not right. Try the current code from your app."
REPLAYED_CODE = "That code was already used. Wait for the next one."
WRONG_CREDENTIAL = "Enter a current code from your app or your password."


def now() -> float:
    """The current time in epoch seconds (the one clock the TOTP checks read)."""
    return time.time()


# --- Mailed codes ------------------------------------------------------------------------


def send_login_code(user: User, attempt: str) -> None:
    """Mail a sign-in code bound to this sign-in ``attempt`` (older ones of it stop working)."""
    code = otp.issue(user, LOGIN_PURPOSE, attempt)
    minutes = current_app.config["OTP_TTL_SECONDS"] // 60
    mail.send(
        user.email,
        "Your VAULTA sign-in code",
        f"Your sign-in code is {code}. It works once, for {minutes} minutes.\n"
        "If you did not just sign in, change your password.",
    )


def verify_login(user: User, attempt: str, code: str) -> str:
    """Check the second factor of a sign-in; return how it was passed.

    Raises InvalidInput on ``code`` with a message that names no account detail.
    """
    method = user.second_factor
    if method == TWO_FACTOR_EMAIL:
        otp.verify(user, LOGIN_PURPOSE, attempt, code)
        return "email"
    if method == TWO_FACTOR_TOTP:
        cleaned = _normalise(code)
        if len(cleaned) == pyotp.TOTP(user.totp_secret or "").digits and cleaned.isdigit():
            verify_totp(user, cleaned)
            return "totp"
        use_recovery_code(user, cleaned)
        return "recovery_code"
    raise InvalidInput("This sign-in needs no second factor.", field="code")


# --- TOTP --------------------------------------------------------------------------------


def provisioning_uri(user: User) -> str:
    """The ``otpauth://`` URI an authenticator app scans (holds the secret: show it only
    on the enrolment page)."""
    if not user.totp_secret:
        raise Conflict("Start setting up an authenticator first.")
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def begin_totp_enrolment(user: User) -> User:
    """Give the user a new pending secret (replacing an unconfirmed one)."""
    with write_transaction() as s:
        fresh = _locked(s, user)
        if fresh.two_factor_method == TWO_FACTOR_TOTP:
            raise Conflict("An authenticator is already set up: turn it off first.")
        fresh.totp_secret = pyotp.random_base32()
        fresh.totp_last_step = None
    return fresh


def confirm_totp_enrolment(user: User, code: str) -> list[str]:
    """Finish enrolment with a valid current code; return the new recovery codes."""
    with write_transaction() as s:
        fresh = _locked(s, user)
        if fresh.two_factor_method == TWO_FACTOR_TOTP or not fresh.totp_secret:
            raise Conflict("There is no authenticator set-up to confirm: start again.")
        step = _matching_step(fresh, _normalise(code))
        fresh.totp_last_step = step
        fresh.two_factor_method = TWO_FACTOR_TOTP
        codes = _replace_recovery_codes(s, fresh)
        _audit(s, fresh, "user.totp_enrolled")
    return codes


def verify_totp(user: User, code: str) -> None:
    """Accept a code of the current step ±1 later than the last used step, once."""
    with write_transaction() as s:
        fresh = _locked(s, user)
        if fresh.two_factor_method != TWO_FACTOR_TOTP:
            raise InvalidInput(WRONG_CODE, field="code")
        step = _matching_step(fresh, _normalise(code))
        used = s.execute(
            sa.update(User)
            .where(
                User.id == fresh.id,
                sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step),
            )
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        )
        if used.rowcount != 1:
            raise InvalidInput(REPLAYED_CODE, field="code")


def disable_totp(user: User, credential: str) -> None:
    """Turn the authenticator off, given a current code or the password."""
    with write_transaction() as s:
        fresh = _locked(s, user)
        if fresh.two_factor_method != TWO_FACTOR_TOTP:
            raise Conflict("No authenticator is set up.")
        _check_credential(fresh, credential)
        fresh.two_factor_method = None
        fresh.totp_secret = None
        fresh.totp_last_step = None
        s.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == fresh.id))
        _audit(s, fresh, "user.totp_disabled")


def _matching_step(user: User, code: str) -> int:
    """The time step whose code is ``code`` (current ±VALID_WINDOW), later than the last
    used one; InvalidInput otherwise."""
    totp = pyotp.TOTP(user.totp_secret or "")
    current = int(now()) // TOTP_INTERVAL
    replayed = False
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            if user.totp_last_step is not None and step <= user.totp_last_step:
                replayed = True
                continue
            return step
    raise InvalidInput(REPLAYED_CODE if replayed else WRONG_CODE, field="code")


# --- Recovery codes ----------------------------------------------------------------------


def remaining_recovery_codes(user: User) -> int:
    return int(
        session().scalar(
            sa.select(sa.func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def regenerate_recovery_codes(user: User, credential: str) -> list[str]:
    """New codes (the old ones stop working), given a current code or the password."""
    with write_transaction() as s:
        fresh = _locked(s, user)
        if fresh.two_factor_method != TWO_FACTOR_TOTP:
            raise Conflict("Recovery codes belong to an authenticator: set one up first.")
        _check_credential(fresh, credential)
        codes = _replace_recovery_codes(s, fresh)
        _audit(s, fresh, "user.recovery_codes_regenerated")
    return codes


def use_recovery_code(user: User, code: str) -> None:
    """Consume one unused recovery code of ``user`` or raise InvalidInput on ``code``."""
    with write_transaction() as s:
        used = s.execute(
            sa.update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == _recovery_hash(user.id, _normalise(code)),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if used.rowcount != 1:
            raise InvalidInput(WRONG_CODE, field="code")
        left = s.scalar(
            sa.select(sa.func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        _audit(s, user, "user.recovery_code_used", {"remaining": left})


def _replace_recovery_codes(s: Session, user: User) -> list[str]:
    s.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODE_COUNT)]
    for code in codes:
        s.add(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(user.id, code)))
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def _recovery_hash(user_id: int, code: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"recovery\x1f{user_id}\x1f{code}".encode(), hashlib.sha256).hexdigest()


# --- Mailed codes as a customer's chosen factor ------------------------------------------


def start_email_enrolment(user: User) -> None:
    """Mail a code that turns mailed sign-in codes on once entered (proves the mailbox)."""
    if user.is_staff or user.two_factor_method is not None:
        raise Conflict("A second factor is already on for this login.")
    code = otp.issue(user, ENABLE_EMAIL_PURPOSE, "email")
    mail.send(
        user.email,
        "Turn on sign-in codes",
        f"Enter {code} on the settings page to get a code by mail at every sign-in.",
    )


def confirm_email_enrolment(user: User, code: str) -> None:
    if user.is_staff or user.two_factor_method is not None:
        raise Conflict("A second factor is already on for this login.")
    otp.verify(user, ENABLE_EMAIL_PURPOSE, "email", code)
    with write_transaction() as s:
        fresh = _locked(s, user)
        fresh.two_factor_method = TWO_FACTOR_EMAIL
        _audit(s, fresh, "user.two_factor_enabled", {"method": TWO_FACTOR_EMAIL})


def disable_email(user: User, password: str) -> None:
    """Customers may turn mailed codes off again (with their password); staff may not."""
    if user.is_staff:
        raise Forbidden("Staff always sign in with a second factor.")
    with write_transaction() as s:
        fresh = _locked(s, user)
        if fresh.two_factor_method != TWO_FACTOR_EMAIL:
            raise Conflict("Sign-in codes by mail are not on.")
        if not passwords.verify_password(fresh.password_hash, password or ""):
            raise InvalidInput("Your password is not correct.", field="password")
        fresh.two_factor_method = None
        _audit(s, fresh, "user.two_factor_disabled", {"method": TWO_FACTOR_EMAIL})


# --- Helpers -----------------------------------------------------------------------------


def _locked(s: Session, user: User) -> User:
    fresh = s.get(User, user.id, with_for_update=True, populate_existing=True)
    if fresh is None:
        raise InvalidInput("There is no such login.", field="code")
    return fresh


def _audit(s: Session, user: User, action: str, details: dict[str, object] | None = None) -> None:
    audit.record(
        s, actor=user, action=action, object_type="user", object_id=user.id, details=details
    )


def _check_credential(user: User, credential: str) -> None:
    """A current TOTP code (then its step counts as used) or the password."""
    cleaned = (credential or "").strip()
    digits = _normalise(cleaned)
    if len(digits) == 6 and digits.isdigit():
        try:
            user.totp_last_step = _matching_step(user, digits)
            return
        except InvalidInput:
            pass
    if not passwords.verify_password(user.password_hash, cleaned):
        raise InvalidInput(WRONG_CREDENTIAL, field="credential")


def _normalise(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").lower()
