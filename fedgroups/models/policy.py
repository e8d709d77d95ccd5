"""How this instance federates and who may sign up: one row, changed by admins.

Kept in the database rather than the environment, so that an admin switches modes from the
command line or the admin pages and every process sharing the database follows at once.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


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
