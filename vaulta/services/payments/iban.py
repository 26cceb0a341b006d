"""IBANs (ISO 13616) and BICs (ISO 9362) of external beneficiaries, checked with schwifty.

schwifty knows every country's IBAN length and layout and checks the mod-97 digits; this
module turns its errors into InvalidInput on the form field, in words a customer can act on.
Input may be typed in lower case and with spaces; the stored value is the compact form.
"""

from __future__ import annotations

from schwifty import BIC, IBAN
from schwifty.exceptions import (
    InvalidChecksumDigits,
    InvalidCountryCode,
    InvalidLength,
    SchwiftyException,
)

from vaulta.services.errors import InvalidInput

IBAN_SHAPE = "An IBAN starts with a country code and two check digits, then letters and digits."


def _iban_problem(candidate: IBAN) -> str | None:
    """Why ``candidate`` is not a valid IBAN, or None when it is."""
    if not candidate:
        return "Enter the beneficiary's IBAN."
    try:
        candidate.validate()
    except InvalidCountryCode:
        if not candidate[:2].isalpha():
            return IBAN_SHAPE
        return f"{candidate[:2]} is not a country that uses IBANs."
    except InvalidLength:
        expected = candidate.spec.iban_length
        return (
            f"An IBAN from {candidate.country_code} has {expected} characters; "
            f"this one has {len(candidate)}."
        )
    except InvalidChecksumDigits:
        return "This IBAN's check digits do not match: check it for typing errors."
    except SchwiftyException:  # characters, or a bank code or account number out of shape
        if not candidate.isalnum() or not candidate[:2].isalpha() or not candidate[2:4].isdigit():
            return IBAN_SHAPE
        return f"This is not how an IBAN from {candidate.country_code} is written."
    return None


def validate(text: str | None, *, field: str = "beneficiary_iban") -> str:
    """The IBAN in compact form, or InvalidInput on ``field`` saying what is wrong."""
    candidate = IBAN(text or "", allow_invalid=True)
    message = _iban_problem(candidate)
    if message:
        raise InvalidInput(message, field=field)
    return str(candidate)


def _bic_problem(candidate: BIC) -> str | None:
    """Why ``candidate`` is not a valid BIC, or None when it is."""
    try:
        candidate.validate()
    except InvalidLength:
        return f"A BIC has 8 or 11 characters; this one has {len(candidate)}."
    except InvalidCountryCode:
        return f"{candidate.country_code} in this BIC is not a country code."
    except SchwiftyException:
        return (
            "A BIC is a 4-character bank code, a country code, a 2-character location code "
            "and an optional 3-character branch code, in letters and digits."
        )
    return None


def validate_bic(text: str | None, *, field: str = "beneficiary_bic") -> str | None:
    """The BIC in compact form, None when left empty, or InvalidInput on ``field``.

    Length, characters and country are checked. A well-formed BIC that schwifty's bank
    registry does not list is accepted: the registry does not cover every country.
    """
    candidate = BIC(text or "", allow_invalid=True)
    if not candidate:
        return None
    message = _bic_problem(candidate)
    if message:
        raise InvalidInput(message, field=field)
    return str(candidate)


def display(iban: str | None) -> str:
    """Groups of four characters, as printed on statements."""
    return IBAN(iban or "", allow_invalid=True).formatted
