"""Activities our actors published, kept for the outbox collection and for redelivery."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from fedgroups.models.actor import Actor
    from fedgroups.models.group import Group


class OutboxActivity(Model):
    """An activity as sent, byte for byte the JSON every recipient receives."""

    id = fields.BigIntField(primary_key=True)
    ap_id = fields.CharField(max_length=512, unique=True)
    actor: fields.ForeignKeyRelation[Actor] = fields.ForeignKeyField(
        "models.Actor", related_name="outbox_activities", on_delete=fields.CASCADE
    )
    group: fields.ForeignKeyNullableRelation[Group] = fields.ForeignKeyField(
        "models.Group", related_name="outbox_activities", null=True, on_delete=fields.CASCADE
    )
    activity_type = fields.CharField(max_length=32)
    object_ap_id = fields.CharField(max_length=512, default="", db_index=True)
    is_public = fields.BooleanField(default=True)
    payload: dict[str, Any] = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "outbox_activities"
