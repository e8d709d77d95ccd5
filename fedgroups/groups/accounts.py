"""Local accounts: creation and password hashing (argon2)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.transactions import in_transaction

from fedgroups.errors import NotFound, ValidationError
from fedgroups.groups.actors import create_local_actor, find_local_actor
from fedgroups.groups.names import validate_name
from fedgroups.models import Account, ActorKind
from fedgroups.settings import Settings

MIN_PASSWORD_LENGTH = 8
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def create_account(
    settings: Settings, username: str, password: str, *, is_admin: bool = False
) -> Account:
    """A local account with its Person actor. The username is a pseudonym, not a real name."""
    validate_name(username, what="username")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    password_hash = hash_password(password)
    async with in_transaction():
        actor = await create_local_actor(settings, ActorKind.PERSON, username, username)
        return await Account.create(actor=actor, password_hash=password_hash, is_admin=is_admin)


async def find_account(settings: Settings, username: str) -> Account:
    """The local account with this username, or NotFound."""
    actor = await find_local_actor(settings, username)
    account = await Account.get_or_none(actor=actor)
    if account is None:
        raise NotFound(f"{username!r} is not a local account")
    return account
