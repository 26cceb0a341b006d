"""Foreign exchange: the rate registry, customers' quotes and conversions.

- ``rates``: importing rates (``flask vaulta fx-rates import``) and the rate in force.
- ``pricing``: the exact arithmetic of a conversion and its rounding (bank's favour, at
  most one minor unit).
- ``quotes``: pricing a conversion for a customer, valid for ``FX_QUOTE_SECONDS``, used once.
- ``conversions``: posting a confirmed quote as one four-posting ``conversion`` entry.
- ``rate_queries``: the admin page's reads (rates in force, history).
"""
