"""Mailing customers about failed standing-order runs: at least once, never in a transaction.

Each failed run with ``mailed_at`` empty is claimed (``mail_claimed_at`` set; another
runner leaves it alone for LEASE_SECONDS), its mail sent to the customer's active logins,
then marked ``mailed_at``. A send that raises (SMTP down) leaves the claim to lapse: the
next run of the job tries again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from vaulta import mail
from vaulta.models import StandingOrder, StandingOrderRun, User, utcnow
from vaulta.models.standing_order import RUN_FAILED
from vaulta.money import format_amount
from vaulta.services.unit_of_work import session, write_transaction

log = logging.getLogger(__name__)
LEASE_SECONDS = 300
BATCH = 100


def due_ids(limit: int = BATCH) -> list[int]:
    return list(
        session().scalars(
            sa.select(StandingOrderRun.id)
            .where(StandingOrderRun.status == RUN_FAILED, StandingOrderRun.mailed_at.is_(None))
            .order_by(StandingOrderRun.id)
            .limit(limit)
        )
    )


def send_due() -> int:
    """Mail every failed run not mailed yet; how many mails went out."""
    return sum(1 for run_id in due_ids() if send_one(run_id))


def _claim(run_id: int) -> bool:
    now = utcnow()
    lapsed = now - timedelta(seconds=LEASE_SECONDS)
    with write_transaction() as s:
        claimed = s.execute(
            sa.update(StandingOrderRun)
            .where(
                StandingOrderRun.id == run_id,
                StandingOrderRun.status == RUN_FAILED,
                StandingOrderRun.mailed_at.is_(None),
                sa.or_(
                    StandingOrderRun.mail_claimed_at.is_(None),
                    StandingOrderRun.mail_claimed_at < lapsed,
                ),
            )
            .values(mail_claimed_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    return claimed == 1


def send_one(run_id: int) -> bool:
    """Claim, mail and mark one failed run; False when another runner has it or the
    send failed (it is retried once the claim lapses)."""
    if not _claim(run_id):
        return False
    run = session().get(StandingOrderRun, run_id, populate_existing=True)
    assert run is not None
    order = session().get(StandingOrder, run.standing_order_id)
    assert order is not None
    amount = format_amount(order.amount_minor, order.currency)
    subject = f"VAULTA: your standing order #{order.id} could not pay"
    body = (
        f"Your standing order #{order.id} of {amount} (reference: {order.reference}) was due "
        f"on {run.due_date.isoformat()}, but no payment could be made: {run.error}\n"
        "The order stays in place for its next date. Check it under Payments → Standing orders."
    )
    try:
        for address in customer_addresses(order.customer_id):
            mail.send(address, subject, body)
    except Exception as err:  # SMTP down, refused: the claim lapses, then again
        log.warning("standing order run %s: mail not sent: %s", run_id, err)
        return False
    with write_transaction() as s:
        s.execute(
            sa.update(StandingOrderRun)
            .where(StandingOrderRun.id == run_id)
            .values(mailed_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    return True


def customer_addresses(customer_id: int) -> list[str]:
    """The customer's active logins."""
    return list(
        session().scalars(
            sa.select(User.email)
            .where(User.customer_id == customer_id, User.is_active.is_(True))
            .order_by(User.id)
        )
    )
