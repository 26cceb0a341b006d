"""Demo data for ``flask vaulta seed-demo``: idempotent, consistent, never empty pages.

The book has 90 days of history (vaulta/ops/seeding/demo_history.py replays it through the
services, each step dated): customers join over the first weeks, salaries and pensions
arrive monthly, rent and bills leave by direct debit, cards and cash are used at all
hours, customers send each other money, and the demo customer's payments are approved by
the approver. Three payments wait for approval at the end (requested more than a day
before, so Casey's 24-hour total is small and her next small payment needs one approver),
and three change requests from the teller wait in the inbox (demo_requests.py).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app

from vaulta.models import User, utcnow
from vaulta.models.base import clock_set_to
from vaulta.models.transaction import TX_DEPOSIT, TX_TRANSFER, TX_WITHDRAWAL
from vaulta.models.user import (
    ROLE_STAFF,
    STAFF_ADMIN,
    STAFF_APPROVER,
    STAFF_AUDITOR,
    STAFF_TELLER,
)
from vaulta.ops.seeding.demo_history import Book, Join, Member, Open, Post, Step, affordable, replay
from vaulta.ops.seeding.demo_payments import BENEFICIARY_EMAIL, JOINING_DAYS, payment_steps
from vaulta.ops.seeding.demo_rates import load_demo_rates
from vaulta.ops.seeding.demo_requests import request_steps
from vaulta.services.banking import accounts
from vaulta.services.identity import users
from vaulta.services.unit_of_work import session

DEMO_PASSWORD = "vaulta-demo-password"  # noqa: S105 - printed demo credentials
ADMIN_EMAIL = "admin@vaulta.test"
APPROVER_EMAIL = "approver@vaulta.test"
SECOND_APPROVER_EMAIL = "approver2@vaulta.test"
TELLER_EMAIL = "teller@vaulta.test"
AUDITOR_EMAIL = "auditor@vaulta.test"
# (email, full name, staff role) of every demo staff login.
STAFF = (
    (ADMIN_EMAIL, "Avery Admin", STAFF_ADMIN),
    (TELLER_EMAIL, "Taylor Teller", STAFF_TELLER),
    (APPROVER_EMAIL, "Parker Approver", STAFF_APPROVER),
    (SECOND_APPROVER_EMAIL, "Morgan Approver", STAFF_APPROVER),
    (AUDITOR_EMAIL, "Alex Auditor", STAFF_AUDITOR),
)
CUSTOMER_EMAIL = "customer@vaulta.test"
HISTORY_DAYS = 90

FURTHER_CUSTOMERS = [
    ("Ada Lovelace", "ada@vaulta.test", True),
    ("Alan Turing", "alan@vaulta.test", True),
    ("Grace Hopper", "grace@vaulta.test", False),
    ("Edsger Dijkstra", None, False),
    ("Barbara Liskov", "barbara@vaulta.test", True),
    ("Donald Knuth", None, False),
    ("Margaret Hamilton", "margaret@vaulta.test", False),
    ("Ken Thompson", None, False),
    ("Frances Allen", "frances@vaulta.test", True),
    ("John Backus", None, False),
    ("Radia Perlman", "radia@vaulta.test", False),
    ("Tony Hoare", None, False),
]
EMPLOYERS = ("Initech Ltd", "Globex plc", "Northwind Traders", "Umbrella Health", "Acme Corp")
PENSIONS = ("Aviva Pensions", "State Pension")
LANDLORDS = ("Harbour Estates", "Greenfield Lettings", "Canary Homes", "Riverside Properties")
BILLS = (("Thames Water", 15, 2_800, 4_200), ("Vodafone", 9, 1_500, 3_500))
CARD_SPENDS = (
    ("Tesco Metro", 600, 6_500),
    ("Sainsbury's", 1_500, 9_000),
    ("Pret A Manger", 350, 1_400),
    ("Shell", 3_000, 8_500),
    ("Amazon", 900, 12_000),
    ("Deliveroo", 1_500, 4_800),
    ("Boots", 300, 2_600),
    ("Trainline", 1_200, 9_500),
    ("Waterstones", 800, 3_500),
)
CASH = (2_000, 4_000, 5_000, 10_000, 20_000)
TRANSFER_REASONS = ("Dinner", "Gift", "Concert tickets", "Holiday share", "Birthday present")
MAIN = "casey"


def demo_logins() -> list[tuple[str, str]]:
    """(email, role) of every demo login."""
    logins = [(email, role) for email, _, role in STAFF]
    logins.append((CUSTOMER_EMAIL, "customer"))
    logins += [(email, "customer") for _, email, has in FURTHER_CUSTOMERS if has and email]
    return logins


def seed_demo(password: str = DEMO_PASSWORD, rng_seed: int = 7) -> bool:
    """Create the demo book unless it is there already; True when something was created.

    Running it again adds nothing.
    """
    if users.find_by_email(ADMIN_EMAIL) is not None:
        return False
    rng = random.Random(rng_seed)  # noqa: S311 - reproducible demo data, not secrets
    now = utcnow()
    start = datetime.combine((now - timedelta(days=HISTORY_DAYS)).date(), time(), tzinfo=UTC)
    with clock_set_to(start + timedelta(hours=8)):
        staff = {
            email: users.create_user(
                email, password, role=ROLE_STAFF, full_name=name, staff_roles=[role]
            )
            for email, name, role in STAFF
        }
        for currency in ("EUR", "USD"):
            accounts.system_account(currency)
    cast = _cast(rng)
    steps: list[Step] = [s for s in _everyday_life(rng, cast, start, now) if s.at < now]
    steps += payment_steps(
        rng,
        start,
        now,
        customer=MAIN,
        account=f"{MAIN}:EUR",
        beneficiary=f"{_beneficiary_key(cast)}:EUR",
        threshold=current_app.config["APPROVAL_STEP_UP_THRESHOLD_MINOR"],
    )
    steps += request_steps(now, _requests_member(cast))
    replay(affordable(steps), Book(staff[TELLER_EMAIL], staff[APPROVER_EMAIL], password))
    load_demo_rates(start)
    return True


def database_is_empty() -> bool:
    return session().scalar(sa.select(sa.func.count()).select_from(User)) == 0


def _cast(rng: random.Random) -> list[Member]:
    main = Member(
        MAIN, "Casey Customer", CUSTOMER_EMAIL, True, ("EUR", "USD"), "+44 20 7946 0000",
        "1 Demo Street, London",
    )  # fmt: skip
    cast = [main]
    for name, email, login in FURTHER_CUSTOMERS:
        currency = "EUR" if email == BENEFICIARY_EMAIL else rng.choice(("EUR", "EUR", "USD"))
        phone = f"+44 20 7946 {rng.randrange(1000, 9999)}"
        cast.append(Member(name.split()[0].lower(), name, email, login, (currency,), phone))
    return cast


def _requests_member(cast: list[Member]) -> Member:
    """The customer of the teller's demo requests: not Casey, not the payments' payee."""
    others = [m for m in cast[1:] if m.email != BENEFICIARY_EMAIL]
    return next((m for m in others if m.currencies == ("EUR",)), others[0])


def _beneficiary_key(cast: list[Member]) -> str:
    return next(m.key for m in cast if m.email == BENEFICIARY_EMAIL)


def _everyday_life(
    rng: random.Random, cast: list[Member], start: datetime, now: datetime
) -> Iterator[Step]:
    """Joining, opening deposits, income, rent, bills, card spends, cash and transfers."""
    end = now - timedelta(hours=1)
    pools: dict[str, list[tuple[datetime, str]]] = {}
    for member in cast:
        main = member.key == MAIN
        joined = start + timedelta(days=0 if main else rng.randrange(JOINING_DAYS), hours=9)
        joined += timedelta(minutes=rng.randrange(0, 7 * 60))
        yield Join(joined, member)
        for n, currency in enumerate(member.currencies):
            key = f"{member.key}:{currency}"
            opened = joined + timedelta(minutes=4 + n)
            yield Open(opened, key, member.key, currency)
            first = 250_000 if main else rng.randrange(50_000, 400_000, 100)
            if main and currency == "USD":
                first = 120_000
            yield Post(opened + timedelta(minutes=5), TX_DEPOSIT, key, first, "Opening deposit")
            pools.setdefault(currency, []).append((opened, key))
            days = _days(opened + timedelta(days=1), end)
            if n == 0:
                yield from _income_and_rent(rng, key, days, main)
                yield from _spending(rng, key, days, end, main)
            else:  # the demo customer's USD account: freelance income, a few subscriptions
                yield from _freelance(rng, key, days)
    for accounts_ in pools.values():
        yield from _transfers(rng, accounts_, start, end)


def _days(first: datetime, end: datetime) -> list[datetime]:
    """The midnights from the day of ``first`` (exclusive of times before it) to ``end``."""
    day = datetime.combine(first.date(), time(), tzinfo=UTC)
    days = []
    while day < end:
        days.append(day)
        day += timedelta(days=1)
    return days


def _at(rng: random.Random, day: datetime, earliest: int, latest: int) -> datetime:
    """A moment of ``day`` between hour ``earliest`` and hour ``latest``."""
    return day + timedelta(minutes=rng.randrange(earliest * 60, latest * 60))


def _income_and_rent(
    rng: random.Random, key: str, days: list[datetime], main: bool
) -> Iterator[Post]:
    pension = not main and rng.random() < 0.2
    monthly = 345_000 if main else rng.randrange(190_000, 540_000, 500)
    payer = rng.choice(PENSIONS) if pension else rng.choice(EMPLOYERS[1:])
    if main:
        payer = EMPLOYERS[0]
    rent = 115_000 if main else (rng.randrange(60_000, 160_000, 500) if rng.random() < 0.7 else 0)
    landlord = rng.choice(LANDLORDS)
    bills = [bill for bill in BILLS if main or rng.random() < 0.3]
    for day in days:
        payday = day.day == 1 if pension else _is_payday(day)
        if payday:
            label = f"Pension {payer}" if pension else f"Salary {payer}"
            yield Post(_at(rng, day, 5, 7), TX_DEPOSIT, key, monthly, label)
        if rent and day.day == 1:
            yield Post(_at(rng, day, 7, 9), TX_WITHDRAWAL, key, rent, f"Rent {landlord}")
        for payee, day_of_month, low, high in bills:
            if day.day == day_of_month:
                amount = rng.randrange(low, high)
                yield Post(_at(rng, day, 6, 8), TX_WITHDRAWAL, key, amount, f"Direct debit {payee}")


def _is_payday(day: datetime) -> bool:
    """The 25th, or the Friday before it when it falls on a weekend."""
    if day.weekday() >= 5:
        return False
    if day.day == 25:
        return True
    return day.weekday() == 4 and day.day in (23, 24)


def _spending(
    rng: random.Random, key: str, days: list[datetime], end: datetime, main: bool
) -> Iterator[Post]:
    """Card spends at all hours (the demo customer's most days, others' now and then) and
    cash every week or few."""
    likelihood = 0.4 if main else rng.uniform(0.03, 0.08)
    cash_every = (7, 15) if main else (14, 30)
    next_cash = rng.randrange(2, cash_every[0] + 2)
    for n, day in enumerate(days):
        spends = (rng.random() < likelihood) + (rng.random() < likelihood / 3)
        for _ in range(spends):
            shop, low, high = rng.choice(CARD_SPENDS)
            when = _at(rng, day, 7, 23)
            if when < end:
                amount = rng.randrange(low, high)
                yield Post(when, TX_WITHDRAWAL, key, amount, f"Card payment {shop}")
        if n == next_cash:
            next_cash += rng.randrange(*cash_every)
            when = _at(rng, day, 10, 20)
            if when < end:
                yield Post(when, TX_WITHDRAWAL, key, rng.choice(CASH), "ATM withdrawal")


def _freelance(rng: random.Random, key: str, days: list[datetime]) -> Iterator[Post]:
    for day in days:
        if day.day == 10:
            amount = rng.randrange(60_000, 95_000, 100)
            yield Post(_at(rng, day, 13, 17), TX_DEPOSIT, key, amount, "Invoice Contoso Inc")
        if day.day == 3:
            yield Post(_at(rng, day, 2, 4), TX_WITHDRAWAL, key, 400, "Card payment GitHub")
        if day.day == 5:
            amount = rng.randrange(900, 3_000)
            yield Post(_at(rng, day, 2, 4), TX_WITHDRAWAL, key, amount, "Card payment AWS")


def _transfers(
    rng: random.Random, opened: list[tuple[datetime, str]], start: datetime, end: datetime
) -> Iterator[Post]:
    """About one transfer a week between customers with accounts in the same currency."""
    for day in _days(start + timedelta(days=1), end):
        if rng.random() >= 1 / 7:
            continue
        when = _at(rng, day, 12, 22)
        open_then = [key for at, key in opened if at < when]
        if len(open_then) < 2 or when >= end:
            continue
        source, target = rng.sample(open_then, 2)
        amount = rng.randrange(1_000, 15_000, 50)
        yield Post(when, TX_TRANSFER, source, amount, rng.choice(TRANSFER_REASONS), to=target)
