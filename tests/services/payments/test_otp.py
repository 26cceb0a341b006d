"""One-time passcodes: single use, bound, expiring, locked after five wrong tries."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from vaulta.extensions import db
from vaulta.models import OTP, User, utcnow
from vaulta.services.errors import InvalidInput
from vaulta.services.identity import otp

PURPOSE, SUBJECT = otp.PAYMENT_CONFIRM, "17"


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_code_is_six_digits_stored_only_as_a_keyed_hash(customer_user: User) -> None:
    code = otp.issue(customer_user, PURPOSE, SUBJECT)
    assert len(code) == 6
    assert code.isdigit()
    row = db.session.scalars(sa.select(OTP)).one()
    assert code not in row.code_hash
    assert len(row.code_hash) == 64
    otp.verify(customer_user, PURPOSE, SUBJECT, code)
    assert db.session.scalars(sa.select(OTP)).one().consumed_at is not None


def test_a_code_is_single_use(customer_user: User) -> None:
    code = otp.issue(customer_user, PURPOSE, SUBJECT)
    otp.verify(customer_user, PURPOSE, SUBJECT, code)
    with pytest.raises(InvalidInput, match="no valid code"):
        otp.verify(customer_user, PURPOSE, SUBJECT, code)


def test_an_expired_code_is_refused(customer_user: User) -> None:
    code = otp.issue(customer_user, PURPOSE, SUBJECT)
    later = utcnow() + timedelta(seconds=301)
    with pytest.raises(InvalidInput, match="expired") as err:
        otp.verify(customer_user, PURPOSE, SUBJECT, code, now=later)
    assert err.value.field == "code"
    otp.verify(customer_user, PURPOSE, SUBJECT, code, now=utcnow() + timedelta(seconds=290))


def test_five_wrong_codes_lock_it_and_each_try_is_committed(customer_user: User) -> None:
    code = otp.issue(customer_user, PURPOSE, SUBJECT)
    for left in (4, 3, 2, 1):
        with pytest.raises(InvalidInput, match=f"{left} tr"):
            otp.verify(customer_user, PURPOSE, SUBJECT, _wrong(code))
        db.session.rollback()  # what the error handler does: the count must survive it
        assert db.session.scalar(sa.select(OTP.attempts)) == 5 - left
    with pytest.raises(InvalidInput, match="Too many"):
        otp.verify(customer_user, PURPOSE, SUBJECT, _wrong(code))
    with pytest.raises(InvalidInput, match="Too many"):
        otp.verify(customer_user, PURPOSE, SUBJECT, code)  # even the right code now
    assert db.session.scalar(sa.select(OTP.attempts)) == 5


@pytest.mark.parametrize(
    ("purpose", "subject"),
    [(otp.PAYMENT_APPROVE, SUBJECT), (PURPOSE, "18")],
    ids=["other purpose", "other payment"],
)
def test_a_code_for_another_purpose_or_payment_is_refused(
    customer_user: User, purpose: str, subject: str
) -> None:
    code = otp.issue(customer_user, PURPOSE, SUBJECT)
    with pytest.raises(InvalidInput):
        otp.verify(customer_user, purpose, subject, code)
    otp.verify(customer_user, PURPOSE, SUBJECT, code)  # untouched by the refusal


def test_a_code_of_another_user_is_refused(customer_user: User, other_customer_user: User) -> None:
    code = otp.issue(customer_user, PURPOSE, SUBJECT)
    otp.issue(other_customer_user, PURPOSE, SUBJECT)
    with pytest.raises(InvalidInput):
        otp.verify(other_customer_user, PURPOSE, SUBJECT, code)


def test_a_new_code_replaces_the_old_one(customer_user: User) -> None:
    first = otp.issue(customer_user, PURPOSE, SUBJECT)
    second = otp.issue(customer_user, PURPOSE, SUBJECT)
    if first != second:
        with pytest.raises(InvalidInput):
            otp.verify(customer_user, PURPOSE, SUBJECT, first)
    otp.verify(customer_user, PURPOSE, SUBJECT, second)
    older = db.session.scalars(sa.select(OTP).order_by(OTP.id)).first()
    assert older is not None
    assert older.consumed_at is None
    assert older.expires_at <= utcnow()
