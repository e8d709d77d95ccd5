"""Local accounts: the people who log in here, each with a Person actor."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from fedgroups.models.actor import Actor


class AccountState(StrEnum):
    ACTIVE = "active"
    PENDING = "pending"  # signed up while registrations need approval, waits for an admin
    REJECTED = "rejected"


class Account(Model):
    """A person with a login on this instance. The name shown to others is a pseudonym."""

    id = fields.IntField(primary_key=True)
    actor: fields.OneToOneRelation[Actor] = fields.OneToOneField(
        "models.Actor", related_name="account", on_delete=fields.CASCADE
    )
    password_hash = fields.CharField(max_length=255)
    is_admin = fields.BooleanField(default=False)
    is_suspended = fields.BooleanField(default=False)  # by an admin: no login, no posting
    suspended_at = fields.DatetimeField(null=True)
    suspension_reason = fields.TextField(default="")  # for the admins, in their log too
    state = fields.CharEnumField(AccountState, max_length=16, default=AccountState.ACTIVE)
    signup_reason = fields.TextField(default="")  # what the person told the admins (approval)
    pronouns = fields.CharField(max_length=64, default="")
    bio = fields.TextField(default="")  # plain text as typed, the actor's summary is its HTML
    time_zone = fields.CharField(max_length=64, default="UTC")  # IANA name, for timestamps
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "accounts"

    @property
    def can_log_in(self) -> bool:
        return self.state == AccountState.ACTIVE and not self.is_suspended
