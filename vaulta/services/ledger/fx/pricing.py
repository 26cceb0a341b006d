"""The arithmetic of a conversion: exact fractions, rounded once, in the bank's favour.

A registry rate ``r`` for ``base/quote`` means 1 ``base`` = ``r`` ``quote``. Converting
``X`` minor units of currency F into currency T:

1. The market rate ``m`` (units of T per unit of F) is the rate in force for F/T; when the
   registry has only T/F in force, ``m = 1 / r`` of that rate (``inverted``).
2. The customer's rate is ``m * (10000 - spread_bps) / 10000``: the spread is taken off in
   the bank's favour.
3. The amount the customer receives, in minor units of T, is the exact product
   ``X * 10^-e(F) * customer rate * 10^e(T)`` (``e`` = the currency's minor-unit exponent,
   vaulta/money.py) rounded **down** (ROUND_DOWN) to a whole minor unit.

Every step before the rounding is exact (``fractions.Fraction``: no float, no decimal
precision limit), so the customer receives at most one minor unit less than the exact
amount at the customer's rate, and never more. The customer's rate shown and stored
(``display_rate``) is rounded down to ``RATE_MAX_PLACES`` decimals for people; the amounts
are always computed from the market rate, ``inverted`` and the spread, so anyone can
recompute them (verify-ledger does).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from fractions import Fraction

from vaulta.models.fx import RATE_MAX_PLACES
from vaulta.money import exponent

BPS = 10_000


def market_fraction(rate: Decimal, *, inverted: bool) -> Fraction:
    """Units of the to-currency per unit of the from-currency, exactly."""
    exact = Fraction(rate)
    return 1 / exact if inverted else exact


def customer_fraction(rate: Decimal, *, inverted: bool, spread_bps: int) -> Fraction:
    """The market rate less the spread, exactly."""
    if not 0 <= spread_bps < BPS:
        raise ValueError(f"spread of {spread_bps} basis points")
    return market_fraction(rate, inverted=inverted) * Fraction(BPS - spread_bps, BPS)


def exact_to_amount(
    from_minor: int,
    from_currency: str,
    to_currency: str,
    rate: Decimal,
    *,
    inverted: bool,
    spread_bps: int,
) -> Fraction:
    """What ``from_minor`` is worth in minor units of ``to_currency``, before rounding."""
    scale = Fraction(10) ** (exponent(to_currency) - exponent(from_currency))
    return from_minor * scale * customer_fraction(rate, inverted=inverted, spread_bps=spread_bps)


def to_amount(
    from_minor: int,
    from_currency: str,
    to_currency: str,
    rate: Decimal,
    *,
    inverted: bool,
    spread_bps: int,
) -> int:
    """The minor units the customer receives: the exact amount rounded down."""
    exact = exact_to_amount(
        from_minor, from_currency, to_currency, rate, inverted=inverted, spread_bps=spread_bps
    )
    return exact.numerator // exact.denominator  # floor; amounts are positive


def display_rate(rate: Decimal, *, inverted: bool, spread_bps: int) -> Decimal:
    """The customer's rate for people, rounded down to ``RATE_MAX_PLACES`` decimals."""
    exact = customer_fraction(rate, inverted=inverted, spread_bps=spread_bps)
    quotient = Decimal(exact.numerator) / Decimal(exact.denominator)  # 28 significant digits
    shown = quotient.quantize(Decimal(1).scaleb(-RATE_MAX_PLACES), rounding=ROUND_DOWN)
    return shown.normalize() if shown != 0 else Decimal(1).scaleb(-RATE_MAX_PLACES)
