"""Human-friendly identifiers: customer numbers and account numbers with a check digit."""

from __future__ import annotations

import secrets


def luhn_check_digit(digits: str) -> str:
    """The Luhn check digit for a string of digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def is_valid_account_number(number: str) -> bool:
    return len(number) == 10 and number.isdigit() and luhn_check_digit(number[:-1]) == number[-1]


def account_number_from(body: int) -> str:
    """A 10-digit account number: 9 digits of ``body`` and a Luhn check digit."""
    digits = f"{body:09d}"
    if len(digits) != 9:
        raise ValueError("account number body must have at most 9 digits")
    return digits + luhn_check_digit(digits)


def random_account_number() -> str:
    return account_number_from(100_000_000 + secrets.randbelow(900_000_000))


def customer_number_from(n: int) -> str:
    return f"C{n:08d}"


def random_customer_number() -> str:
    return customer_number_from(10_000_000 + secrets.randbelow(90_000_000))
