"""How this instance federates and who may sign up: one row, changed by admins.

Kept in the database rather than the environment, so that an admin switches modes from the
command line or the admin pages and every process sharing the database follows at once.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from tortoise import fields
from tortoise.models import Model

from fedgroups.errors import ValidationError


class FederationMode(StrEnum):
    OPEN = "open"  # federate with every server not blocked
    ALLOWLIST = "allowlist"  # federate only with the domains admins listed
    CAUTIOUS = "cautious"  # a server not seen before waits for an admin's yes


class RegistrationMode(StrEnum):
    OPEN = "open"  # anyone signs up
    APPROVAL = "approval"  # people say why they want to join; an admin approves each one
    CLOSED = "closed"  # nobody signs up on the web (`fedgroups user create` still works)


class InstancePolicy(Model):
    """The instance's federation and registration modes. A single row, made on first change."""

    id = fields.IntField(primary_key=True)
    federation_mode = fields.CharEnumField(
        FederationMode, max_length=16, default=FederationMode.OPEN
    )
    # Empty until an admin chooses: FEDGROUPS_REGISTRATIONS is the initial default till then.
    registration_mode = fields.CharEnumField(RegistrationMode, max_length=16, null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "instance_policy"


Mode = TypeVar("Mode", FederationMode, RegistrationMode)


def parse_mode(kind: type[Mode], value: str, what: str) -> Mode:
    """An admin's typed choice of `kind`, or a ValidationError naming the choices."""
    try:
        return kind(value.strip().lower())
    except ValueError:
        choices = ", ".join(mode.value for mode in kind)
        raise ValidationError(f"the {what} is one of {choices}") from None


async def instance_policy() -> InstancePolicy | None:
    """The single policy row, or None while no admin has changed anything."""
    return await InstancePolicy.filter().order_by("id").first()


async def save_instance_policy(**changes: Any) -> None:
    """Write `changes` to the single policy row, making it on the first change."""
    row = await instance_policy()
    if row is None:
        await InstancePolicy.create(**changes)
        return
    row.update_from_dict(changes)
    await row.save(update_fields=[*changes, "updated_at"])
