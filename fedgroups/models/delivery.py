"""Deliveries: one durable job per (activity, distinct inbox), written with its cause."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from fedgroups.models.queue import QueueFields

if TYPE_CHECKING:
    from fedgroups.models.outbox_activity import OutboxActivity


class Delivery(QueueFields, Model):
    """Send one activity to one inbox, retrying with backoff until it lands or we give up."""

    id = fields.BigIntField(primary_key=True)
    activity: fields.ForeignKeyRelation[OutboxActivity] = fields.ForeignKeyField(
        "models.OutboxActivity", related_name="deliveries", on_delete=fields.CASCADE
    )
    inbox_url = fields.CharField(max_length=512)
    domain = fields.CharField(max_length=255, db_index=True)
    last_status = fields.IntField(null=True)

    class Meta:
        table = "deliveries"
        unique_together = (("activity", "inbox_url"),)
        indexes = (("state", "run_at"),)
