"""Monthly statements by the scheduler: a month's PDF for every open customer account, once
the month's backdating window has closed.

Staff may date an entry up to ``LEDGER_BACKDATE_DAYS`` back, so a month's statement is
final (and kept) only from the day after its last day plus that many days
(``statement_archive.window_closes``): ``due_month`` is the newest month whose window has
closed. The periodic job (vaulta/ops/jobs.py, daily at 01:15 UTC: on the day the window
closes it does the work, on later days it catches up whatever a stopped worker missed)
finds the open customer accounts that have no kept statement for the due month yet and
issues them in batches of
``STATEMENT_BATCH_SIZE``, each batch its own task (several workers share the work; a
batch enqueued twice by two workers' schedulers is claimed by one copy). Every
document goes through ``statement_pdf.issue_month``, the same code as the first request
on the account page, so it is the same document and is kept once: running again issues
nothing new, and a statement someone downloaded first is not replaced.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app

from vaulta.accounts import statement_pdf
from vaulta.models import Account, MonthlyStatement, utcnow
from vaulta.models.account import ACCOUNT_CLOSED, KIND_CUSTOMER
from vaulta.services.reports import statement_archive
from vaulta.services.unit_of_work import session

log = logging.getLogger(__name__)

_a = Account.__table__
_m = MonthlyStatement.__table__


def last_month(today: date | None = None) -> date:
    """The first day of the month before ``today`` (UTC today unless given)."""
    current = statement_archive.month_start(today or utcnow().date())
    return statement_archive.month_start(current - timedelta(days=1))


def due_month(today: date | None = None) -> date:
    """The newest month whose backdating window has closed by ``today`` (UTC today unless
    given): the month its statements are kept for now."""
    days = int(current_app.config["LEDGER_BACKDATE_DAYS"])
    return last_month((today or utcnow().date()) - timedelta(days=days))


def accounts_missing(month: date) -> list[int]:
    """Open customer accounts opened by the end of ``month`` with no statement for it."""
    opened_by = statement_archive.next_month(month)
    kept = sa.select(_m.c.id).where(_m.c.account_id == _a.c.id, _m.c.month == month)
    stmt = (
        sa.select(_a.c.id)
        .where(
            _a.c.kind == KIND_CUSTOMER,
            _a.c.status != ACCOUNT_CLOSED,
            _a.c.opened_at < datetime.combine(opened_by, time.min, tzinfo=UTC),
            ~sa.exists(kept),
        )
        .order_by(_a.c.id)
    )
    return list(session().scalars(stmt))


def batches(ids: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def batch_key(month: str, account_ids: Sequence[int]) -> str:
    """The queue key a batch task claims: every worker runs the periodic scheduler, so the
    same batch can be enqueued more than once; one copy renders it."""
    return f"vaulta.statements_batch:{month}:{account_ids[0]}-{account_ids[-1]}:{len(account_ids)}"


def issue_batch(month: date, account_ids: Sequence[int]) -> int:
    """Issue ``month``'s statement for each account that has none yet; how many were new.
    Nothing while the month's backdating window is still open."""
    if not statement_archive.is_final(month):
        log.info(
            "statements for %s: provisional until %s", month, statement_archive.window_closes(month)
        )
        return 0
    issued = 0
    for account_id in account_ids:
        account = session().get(Account, account_id)
        if account is None or statement_archive.stored(account_id, month) is not None:
            continue
        statement_pdf.issue_month(account, month, actor=None)
        issued += 1
    return issued
