"""International Bank Account Numbers (ISO 13616): normalise, check length and mod-97."""

from __future__ import annotations

import re

from vaulta.services.errors import InvalidInput

# IBAN lengths of common countries (SWIFT IBAN registry). Other countries: 15 to 34.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24,
    "DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23,
    "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "LI": 21,
    "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28,
    "PT": 25, "RO": 24, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TR": 26,
}  # fmt: skip
MIN_LENGTH, MAX_LENGTH = 15, 34
_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]+$")


def normalise(text: str) -> str:
    """Remove spaces and make letters upper case: ``gb82 west…`` → ``GB82WEST…``."""
    return "".join((text or "").split()).upper()


def _as_number(iban: str) -> int:
    """Move the first four characters to the end and turn letters into 10..35."""
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged))


def problem(text: str) -> str | None:
    """Why ``text`` is not a valid IBAN, or None when it is."""
    iban = normalise(text)
    if not iban:
        return "Enter the beneficiary's IBAN."
    if not _SHAPE.match(iban):
        return "An IBAN starts with a country code and two check digits, then letters and digits."
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        return f"An IBAN from {iban[:2]} has {expected} characters; this one has {len(iban)}."
    if expected is None and not MIN_LENGTH <= len(iban) <= MAX_LENGTH:
        return f"An IBAN has {MIN_LENGTH} to {MAX_LENGTH} characters."
    if _as_number(iban) % 97 != 1:
        return "This IBAN's check digits do not match: check it for typing errors."
    return None


def is_valid(text: str) -> bool:
    return problem(text) is None


def validate(text: str, *, field: str = "beneficiary_iban") -> str:
    """The normalised IBAN, or InvalidInput on ``field`` saying what is wrong."""
    message = problem(text)
    if message:
        raise InvalidInput(message, field=field)
    return normalise(text)


def with_check_digits(country: str, bban: str) -> str:
    """Build a valid IBAN from a country code and a basic bank account number."""
    bban = normalise(bban)
    remainder = _as_number(f"{country.upper()}00{bban}") % 97
    return f"{country.upper()}{98 - remainder:02d}{bban}"


def display(iban: str) -> str:
    """Groups of four characters, as printed on statements."""
    iban = normalise(iban)
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
