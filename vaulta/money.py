"""Money is an integer number of minor units plus an ISO 4217 currency code.

``parse_amount`` turns what a person typed into minor units with ``Decimal`` and refuses
more decimals than the currency has; ``format_amount`` turns minor units back into text.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# Minor-unit exponents (ISO 4217) of the currencies VAULTA accepts.
CURRENCY_EXPONENTS: dict[str, int] = {
    "EUR": 2,
    "USD": 2,
    "GBP": 2,
    "CHF": 2,
    "SEK": 2,
    "DKK": 2,
    "NOK": 2,
    "PLN": 2,
    "JPY": 0,
    "KWD": 3,
}
CURRENCIES = tuple(sorted(CURRENCY_EXPONENTS))
_AMOUNT_RE = re.compile(r"^\d+(\.\d+)?$")
# Thousands separators people commonly type; removed before parsing.
_GROUPING = str.maketrans("", "", " ,_'\u00a0")


class AmountError(ValueError):
    """The text is not a valid amount for the currency; the message says why."""


def exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise AmountError(f"Unsupported currency {currency!r}.") from None


def parse_amount(text: str, currency: str) -> int:
    """Parse a positive decimal amount typed by a person into minor units of ``currency``."""
    places = exponent(currency)
    cleaned = (text or "").strip().translate(_GROUPING)
    if not cleaned:
        raise AmountError("Enter an amount.")
    if not _AMOUNT_RE.match(cleaned):
        raise AmountError("Enter an amount like 12.50, with digits and one decimal point.")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:  # pragma: no cover - the regex already rules this out
        raise AmountError("Enter a valid amount.") from None
    fraction = cleaned.partition(".")[2]
    if len(fraction) > places:
        if places == 0:
            raise AmountError(f"{currency} has no minor unit: enter a whole amount.")
        raise AmountError(f"{currency} amounts have at most {places} decimal places.")
    minor = int(value.scaleb(places))
    if minor <= 0:
        raise AmountError("The amount must be greater than zero.")
    return minor


def to_decimal(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


def format_amount(minor: int, currency: str, *, with_currency: bool = True) -> str:
    """``123456, 'EUR'`` → ``'1,234.56 EUR'``; negative amounts keep their sign."""
    places = exponent(currency)
    whole, fraction = divmod(abs(minor), 10**places)  # integers only: no Decimal per cell
    text = f"{'-' if minor < 0 else ''}{whole:,}"
    if places:
        text = f"{text}.{fraction:0{places}d}"
    return f"{text} {currency}" if with_currency else text


def format_plain(minor: int, currency: str) -> str:
    """Minor units as a plain decimal string (no grouping), for CSV files and form fields."""
    return f"{to_decimal(minor, currency):.{exponent(currency)}f}"
