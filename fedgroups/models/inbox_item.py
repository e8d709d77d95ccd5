"""Activities accepted by an inbox: stored before we answer 202, processed later by a worker."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from fedgroups.models.queue import QueueFields


class InboxItem(QueueFields, Model):
    """One verified incoming activity. The unique `activity_ap_id` makes replays harmless."""

    id = fields.BigIntField(primary_key=True)
    activity_ap_id = fields.CharField(max_length=512, unique=True)
    activity_type = fields.CharField(max_length=32)
    actor_ap_id = fields.CharField(max_length=512, db_index=True)
    domain = fields.CharField(max_length=255, default="")  # the actor's, so held items are found
    signer_key_id = fields.CharField(max_length=512)
    recipient = fields.CharField(max_length=512, default="")  # inbox URL it arrived at
    body: dict[str, Any] = fields.JSONField()

    class Meta:
        table = "inbox_items"
        indexes = (("state", "run_at"),)
