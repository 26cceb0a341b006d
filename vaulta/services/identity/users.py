"""Sign-in identities: creation, authentication and session revocation."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from vaulta.models import Customer, User, UserRole, utcnow
from vaulta.models.customer import CUSTOMER_ACTIVE
from vaulta.models.user import ROLE_CUSTOMER, ROLE_STAFF, ROLES, STAFF_ROLES, new_session_token
from vaulta.services import audit
from vaulta.services.audit import actor_id
from vaulta.services.errors import (
    Conflict,
    CustomerNotActive,
    InvalidCredentials,
    InvalidInput,
    NotFound,
)
from vaulta.services.identity import passwords
from vaulta.services.identity.password_policy import password_problem
from vaulta.services.unit_of_work import session, write_transaction
from vaulta.text import display_problem

GENERIC_LOGIN_ERROR = "Email or password is incorrect."


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_by_email(email: str) -> User | None:
    return session().scalar(sa.select(User).where(User.email == normalise_email(email)))


def create_user(
    email: str,
    password: str,
    *,
    role: str,
    full_name: str,
    customer: Customer | None = None,
    staff_roles: Iterable[str] = (),
    actor: User | None = None,
) -> User:
    """Create a login: ``role`` is its kind, ``staff`` or ``customer``.

    A staff login has no customer and holds ``staff_roles`` (admin, approver, teller,
    auditor); its creation is audited (``user.created``, by ``actor``: None for the command
    line). A customer's login belongs to one customer and holds no staff role.
    """
    email = normalise_email(email)
    if "@" not in email:
        raise InvalidInput("Enter a valid email address.", field="email")
    if role not in ROLES:
        raise InvalidInput(f"Unknown role {role!r}.", field="role")
    granted = clean_staff_roles(staff_roles)
    if role == ROLE_STAFF and customer is not None:
        raise InvalidInput("A staff login cannot belong to a customer.")
    if role == ROLE_CUSTOMER and (customer is None or granted):
        raise InvalidInput("A customer login needs a customer and holds no staff role.")
    if name_problem := display_problem(full_name):
        raise InvalidInput(name_problem, field="full_name")
    problem = password_problem(password, email=email)
    if problem:
        raise InvalidInput(problem, field="password")
    password_hash = passwords.hash_password(password)
    with write_transaction() as s:
        if find_by_email(email) is not None:
            raise Conflict("A login with this email already exists.", field="email")
        user = User(
            email=email,
            password_hash=password_hash,
            role=role,
            full_name=full_name.strip() or email,
            customer_id=customer.id if customer else None,
        )
        user.staff_roles = [UserRole(role=r, granted_by_id=actor_id(actor)) for r in granted]
        s.add(user)
        if role == ROLE_STAFF:
            s.flush()
            audit.record(
                s,
                actor=actor,
                action="user.created",
                object_type="user",
                object_id=user.id,
                details={"email": email, "roles": granted},
            )
    return user


def clean_staff_roles(roles: Iterable[str]) -> list[str]:
    """Known staff role names, deduplicated, in the registry's order; InvalidInput otherwise."""
    chosen = {r.strip().lower() for r in roles}
    unknown = chosen - set(STAFF_ROLES)
    if unknown:
        known = ", ".join(STAFF_ROLES)
        raise InvalidInput(f"Unknown role {sorted(unknown)[0]!r} (one of {known}).", field="role")
    return [r for r in STAFF_ROLES if r in chosen]


def customer_status(user: User) -> str | None:
    """The status of the user's customer (None for staff)."""
    if user.customer_id is None:
        return None
    query = sa.select(Customer.status).where(Customer.id == user.customer_id)
    return session().scalar(query)


def ensure_customer_active(user: User) -> None:
    """Raise CustomerNotActive when the user's customer is suspended or closed."""
    status = customer_status(user)
    if status is not None and status != CUSTOMER_ACTIVE:
        raise CustomerNotActive(status)


def may_sign_in(user: User) -> bool:
    """An active staff login or an active login of an active customer."""
    return user.is_active and customer_status(user) in (None, CUSTOMER_ACTIVE)


def authenticate(email: str, password: str) -> User:
    """Return the active user with these credentials, or raise one generic error.

    An unknown email costs the same hash verification as a wrong password, so neither
    the message nor the timing tells which it was. Only after a correct password: the
    login of a suspended or closed customer gets CustomerNotActive, which says so.
    """
    user = find_by_email(email)
    if user is None:
        passwords.verify_password(_dummy_hash(), password)
        raise InvalidCredentials(GENERIC_LOGIN_ERROR)
    if not passwords.verify_password(user.password_hash, password) or not user.is_active:
        raise InvalidCredentials(GENERIC_LOGIN_ERROR)
    ensure_customer_active(user)
    new_hash = (
        passwords.hash_password(password) if passwords.needs_rehash(user.password_hash) else None
    )
    with write_transaction() as s:
        user = s.get(User, user.id)
        assert user is not None
        if new_hash:
            user.password_hash = new_hash
        user.last_login_at = utcnow()
    return user


def rotate_session(user: User) -> None:
    """Give the user a new session identifier: every existing session stops working."""
    with write_transaction() as s:
        fresh = s.get(User, user.id)
        assert fresh is not None
        fresh.session_token = new_session_token()


def sign_out_everywhere(user: User) -> User:
    """End every session of ``user`` (a copied cookie stops working) and audit it."""
    with write_transaction() as s:
        fresh = s.get(User, user.id, with_for_update=True)
        if fresh is None:
            raise NotFound("There is no such login.")
        fresh.session_token = new_session_token()
        audit.record(
            s,
            actor=fresh,
            action="user.signed_out_everywhere",
            object_type="user",
            object_id=fresh.id,
        )
    return fresh


def change_password(user: User, current_password: str, new_password: str) -> User:
    """Replace the password after checking the current one; every session ends.

    Returns the user with the new session identifier: the caller signs the current browser
    in again with it, so only the other sessions end.
    """
    if not passwords.verify_password(user.password_hash, current_password):
        raise InvalidInput("Your current password is not correct.", field="current_password")
    problem = password_problem(new_password, email=user.email)
    if problem:
        raise InvalidInput(problem, field="new_password")
    if passwords.verify_password(user.password_hash, new_password):
        raise InvalidInput("Choose a password you have not used here.", field="new_password")
    new_hash = passwords.hash_password(new_password)
    with write_transaction() as s:
        fresh = s.get(User, user.id, with_for_update=True)
        if fresh is None:
            raise NotFound("There is no such login.")
        fresh.password_hash = new_hash
        fresh.session_token = new_session_token()
        audit.record(
            s, actor=fresh, action="user.password_changed", object_type="user", object_id=fresh.id
        )
    return fresh


_DUMMY: dict[tuple[int, int, int], str] = {}


def _dummy_hash() -> str:
    """A hash with the current parameters, computed once per process (a cache, not state)."""
    h = passwords.hasher()
    key = (h.time_cost, h.memory_cost, h.parallelism)
    if key not in _DUMMY:
        _DUMMY[key] = h.hash("not-a-real-password-at-all")
    return _DUMMY[key]
