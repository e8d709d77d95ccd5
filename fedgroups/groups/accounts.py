"""Local accounts: sign-up by the instance's registration mode, passwords (argon2), profiles.

Logging in answers the same, in comparable time, whether or not the name exists (T45):
an unknown name is checked against a dummy hash so that timing tells nothing either.
"""

from __future__ import annotations

import functools
from zoneinfo import available_timezones

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.transactions import in_transaction

from fedgroups.errors import NotFound, ValidationError
from fedgroups.groups.actors import create_local_actor, find_local_actor, handle_key
from fedgroups.groups.admin_log import record_admin_action
from fedgroups.groups.content import render_plain_paragraphs
from fedgroups.groups.names import validate_name
from fedgroups.groups.registrations import registration_mode
from fedgroups.models import (
    Account,
    AccountState,
    Actor,
    ActorKind,
    ModerationAction,
    RegistrationMode,
)
from fedgroups.settings import Settings

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024  # T51: refused before hashing, never silently truncated
MAX_DISPLAY_NAME = 100
MAX_PRONOUNS = 64
MAX_BIO = 1_000
MAX_REASON = 2_000
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password anyone has")


class RegistrationsClosed(ValidationError):
    """The instance takes no sign-ups right now."""


@functools.cache
def time_zones() -> tuple[str, ...]:
    """IANA time zone names a member can choose for timestamps, sorted."""
    return tuple(sorted(available_timezones() | {"UTC"}))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_new_password(password: str, *, field: str = "password") -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"Use at least {MIN_PASSWORD_LENGTH} characters for the password.", field=field
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError(
            f"Use at most {MAX_PASSWORD_LENGTH} characters for the password.", field=field
        )
    return password


def check_username(username: str) -> str:
    try:
        return validate_name(username, what="username")
    except ValidationError as exc:
        raise ValidationError(str(exc), field="username") from None


async def create_account(
    settings: Settings,
    username: str,
    password: str,
    *,
    is_admin: bool = False,
    state: AccountState = AccountState.ACTIVE,
    signup_reason: str = "",
) -> Account:
    """A local account with its Person actor. The username is a pseudonym, not a real name."""
    check_username(username)
    check_new_password(password)
    password_hash = hash_password(password)
    async with in_transaction():
        actor = await create_local_actor(settings, ActorKind.PERSON, username, username)
        return await Account.create(
            actor=actor,
            password_hash=password_hash,
            is_admin=is_admin,
            state=state,
            signup_reason=signup_reason,
        )


async def sign_up(settings: Settings, username: str, password: str, reason: str = "") -> Account:
    """Sign-up from the web, by the registration mode: open, approval (with a reason), closed."""
    mode = await registration_mode(settings)
    if mode == RegistrationMode.CLOSED:
        raise RegistrationsClosed("This instance is not taking new sign-ups.")
    needs_approval = mode == RegistrationMode.APPROVAL
    reason = reason.strip()[:MAX_REASON]
    if needs_approval and not reason:
        raise ValidationError(
            "Tell the admins a little about why you want to join.", field="reason"
        )
    return await create_account(
        settings,
        username,
        password,
        state=AccountState.PENDING if needs_approval else AccountState.ACTIVE,
        signup_reason=reason,
    )


async def authenticate(settings: Settings, username: str, password: str) -> Account | None:
    """The account these credentials open, or None. Same work whether the name exists or not."""
    account = await Account.get_or_none(
        actor__handle_key=handle_key(username.strip(), settings.domain),
        actor__is_local=True,
        actor__gone_at=None,
    ).select_related("actor")
    if account is None:
        password_matches(_DUMMY_HASH, password)
        return None
    if not password_matches(account.password_hash, password):
        return None
    return account


async def change_password(account: Account, current: str, new: str) -> None:
    """Set a new password. The caller revokes every session (T48) and opens a fresh one."""
    if not password_matches(account.password_hash, current):
        raise ValidationError("That is not your current password.", field="current_password")
    check_new_password(new, field="new_password")
    account.password_hash = hash_password(new)
    await account.save(update_fields=["password_hash"])


async def update_profile(
    account: Account, *, display_name: str, pronouns: str, bio: str, time_zone: str
) -> None:
    """Profile fields are plain text. The actor keeps the display name and the bio as HTML."""
    display_name = " ".join(display_name.split())  # plain text: autoescaped where shown
    if len(display_name) > MAX_DISPLAY_NAME:
        raise ValidationError(f"Use at most {MAX_DISPLAY_NAME} characters.", field="display_name")
    if len(pronouns.strip()) > MAX_PRONOUNS:
        raise ValidationError(f"Use at most {MAX_PRONOUNS} characters.", field="pronouns")
    if len(bio) > MAX_BIO:
        raise ValidationError(f"Use at most {MAX_BIO} characters.", field="bio")
    if time_zone not in time_zones():
        raise ValidationError("Choose a time zone from the list.", field="time_zone")
    actor: Actor = account.actor
    actor.display_name = display_name or actor.username
    actor.summary = render_plain_paragraphs(bio)
    account.pronouns = " ".join(pronouns.split())
    account.bio = bio
    account.time_zone = time_zone
    async with in_transaction():
        await actor.save(update_fields=["display_name", "summary"])
        await account.save(update_fields=["pronouns", "bio", "time_zone"])


async def find_account(settings: Settings, username: str) -> Account:
    """The local account with this username, or NotFound."""
    actor = await find_local_actor(settings, username)
    account = await Account.get_or_none(actor=actor)
    if account is None:
        raise NotFound(f"{username!r} is not a local account")
    return account


async def is_unapproved_signup(actor: Actor) -> bool:
    """True for the Person of a sign-up still waiting for (or refused) approval."""
    return await Account.exists(
        actor=actor, state__in=[AccountState.PENDING, AccountState.REJECTED]
    )


async def pending_signups() -> list[Account]:
    return await Account.filter(state=AccountState.PENDING).order_by("id").select_related("actor")


async def decide_signup(account_id: int, *, approve: bool, by: Actor | None = None) -> Account:
    """An admin's decision on a sign-up waiting for approval, kept in the admins' log."""
    account = await Account.get_or_none(id=account_id, state=AccountState.PENDING)
    if account is None:
        raise NotFound("no such sign-up")
    account.state = AccountState.ACTIVE if approve else AccountState.REJECTED
    action = ModerationAction.APPROVE_MEMBER if approve else ModerationAction.REJECT_MEMBER
    async with in_transaction():
        await account.save(update_fields=["state"])
        await record_admin_action(action, by, subject=await account.actor)
    return account
