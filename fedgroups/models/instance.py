"""What the instance says about itself on its home page: a description and its rules."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class InstanceProfile(Model):
    """A single row, edited by admins. Plain text, shown escaped."""

    id = fields.IntField(primary_key=True)
    description = fields.TextField(default="")
    rules = fields.TextField(default="")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "instance_profile"
