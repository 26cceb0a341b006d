"""Purging FX quotes nobody can use or needs any more.

The live conversion form asks for a quote each time the customer pauses typing, so most
quotes expire unused. ``purge_expired`` deletes, in batches, every quote that expired more
than the retention (``FX_QUOTE_RETENTION_HOURS``) ago and that nothing references:

- a quote a conversion was made from (``fx_conversions.quote_id``) is kept for good: it is
  part of the posted entry's record;
- a used quote whose change request is still pending (the bank's policy asks for approval;
  the request executes at the quoted rate when approved) is kept while it waits; once that
  request is decided, expired, cancelled or failed without a conversion, it goes.

Each batch is found through ``ix_fx_quotes_expires_at`` (one range: expired before the
cutoff), the two references through ``uq_fx_conversions_quote_id`` and the pending
requests' dedupe key index, so the cost is the number of quotes purged, never the table.
A quote expired for the retention can no longer be confirmed (``consume`` requires it
open), so nothing can come to reference it while it is deleted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from vaulta.models import ChangeRequest, FxConversion, FxQuote, utcnow
from vaulta.models.change_request import CR_PENDING
from vaulta.services.ledger.fx.quotes import PENDING_REQUEST_KEY_PREFIX
from vaulta.services.unit_of_work import write_transaction

BATCH = 1_000

_q = FxQuote.__table__
_c = FxConversion.__table__
_r = ChangeRequest.__table__


def _unreferenced_before(cutoff: datetime) -> sa.ColumnElement[bool]:
    converted = sa.select(_c.c.quote_id).where(_c.c.quote_id == _q.c.id)
    waiting = sa.select(_r.c.id).where(
        _r.c.status == sa.literal_column(f"'{CR_PENDING}'"),
        _r.c.dedupe_key == sa.literal(PENDING_REQUEST_KEY_PREFIX) + _q.c.id,
    )
    return sa.and_(_q.c.expires_at < cutoff, ~sa.exists(converted), ~sa.exists(waiting))


def purge_expired(retention: timedelta, *, now: datetime | None = None) -> int:
    """Delete the quotes expired for longer than ``retention`` that nothing references
    (the module's rule), ``BATCH`` at a time, each batch its own transaction; how many."""
    if retention <= timedelta(0):
        raise ValueError("the retention must be positive")
    cutoff = (now or utcnow()) - retention
    purged = 0
    while True:
        with write_transaction() as s:
            ids = list(
                s.scalars(
                    sa.select(_q.c.id)
                    .where(_unreferenced_before(cutoff))
                    .order_by(_q.c.expires_at)
                    .limit(BATCH)
                )
            )
            if ids:
                s.execute(
                    sa.delete(_q).where(_q.c.id.in_(ids), _unreferenced_before(cutoff)),
                    execution_options={"synchronize_session": False},
                )
        purged += len(ids)
        if len(ids) < BATCH:
            return purged
