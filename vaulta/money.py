"""Money is an integer number of minor units plus an ISO 4217 currency code.

Every amount a person types (web forms, search filters) follows one grammar, read by
``parse_decimal``: ASCII digits, an optional decimal point with digits on both sides, and
commas only between groups of exactly three digits before the point (``1234.56``,
``1,234.56``, ``1,234,567``). Anything else (``12,50``, ``1,00``, spaces, apostrophes,
non-ASCII digits, signs, exponents) is refused with a message saying how to write it: a
decimal comma must never be read as a thousands separator. ``parse_amount`` adds the
currency's exponent (never rounding) and refuses zero; ``format_amount`` turns minor units
back into text that ``parse_amount`` reads again.
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
# Plain digits, or groups of three after a first group of 1-3 (not starting with 0, so that
# "0,123" is not read as 123); then an optional point followed by at least one digit.
_AMOUNT_RE = re.compile(r"(?:[0-9]+|[1-9][0-9]{0,2}(?:,[0-9]{3})+)(?:\.[0-9]+)?", re.ASCII)
AMOUNT_MAX_LENGTH = 40  # characters; far more than the largest posting needs
HOW_TO_WRITE = (
    "Write amounts like 1234.56 or 1,234.56: digits, an optional decimal point, "
    "commas only between groups of three digits."
)


class AmountError(ValueError):
    """The text is not a valid amount for the currency; the message says why."""


def exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise AmountError(f"Unsupported currency {currency!r}.") from None


def parse_decimal(text: str | None) -> Decimal:
    """The amount ``text`` in major units, read by the one grammar (module docstring).

    Spaces, tabs and line breaks around the amount are ignored; nothing else is forgiven.
    """
    cleaned = (text or "").strip(" \t\r\n")
    if not cleaned:
        raise AmountError("Enter an amount.")
    if len(cleaned) > AMOUNT_MAX_LENGTH or not _AMOUNT_RE.fullmatch(cleaned):
        raise AmountError(HOW_TO_WRITE)
    try:
        return Decimal(cleaned.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the grammar already rules this out
        raise AmountError(HOW_TO_WRITE) from None


def parse_amount(text: str | None, currency: str) -> int:
    """Parse a positive amount typed by a person into minor units of ``currency``: the one
    grammar, at most as many decimals as the currency has (never rounded), above zero."""
    places = exponent(currency)
    value = parse_decimal(text)
    decimals = -int(value.as_tuple().exponent)  # as typed: "1.50" has 2, trailing zeros count
    if decimals > places:
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
