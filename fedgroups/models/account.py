"""Local accounts: the people who log in here, each with a Person actor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from fedgroups.models.actor import Actor


class Account(Model):
    """A person with a login on this instance. The name shown to others is a pseudonym."""

    id = fields.IntField(primary_key=True)
    actor: fields.OneToOneRelation[Actor] = fields.OneToOneField(
        "models.Actor", related_name="account", on_delete=fields.CASCADE
    )
    password_hash = fields.CharField(max_length=255)
    is_admin = fields.BooleanField(default=False)
    is_suspended = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "accounts"
