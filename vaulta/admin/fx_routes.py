"""``/admin/fx-rates``: the FX rates in force and their history (``fx.read``), filtered by
base and quote currency, in keyset pages. Rates are imported with
``flask vaulta fx-rates import`` (docs/architecture.md "FX")."""

from __future__ import annotations

from flask import current_app
from werkzeug.wrappers import Response

from vaulta.admin import bp
from vaulta.admin.forms import FxRatesFilterForm
from vaulta.auth.access import require_permission
from vaulta.services.ledger.fx import rate_queries
from vaulta.web import render


@bp.get("/fx-rates")
@require_permission("fx.read")
def fx_rates() -> Response:
    form = FxRatesFilterForm.from_query()
    current = history = None
    status = 200
    if form.validate():
        base, quote = form.base.data or None, form.quote.data or None
        current = rate_queries.rates_in_force(base=base, quote=quote)
        history = rate_queries.rate_history(
            base=base,
            quote=quote,
            before_id=form.before_id,
            limit=current_app.config["PAGE_SIZE"],
        )
    else:
        status = 422
    return render(
        "admin/fx_rates.html",
        "admin/_fx_rates_tables.html",
        status=status,
        current=current,
        **form.page_context(history),
    )
