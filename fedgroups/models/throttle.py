"""Attempts counted for rate limits, in the database so every web process sees them all."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ThrottleHit(Model):
    """One counted attempt (a failed login, a sign-up) under a bucket and a key (IP, account)."""

    id = fields.BigIntField(primary_key=True)
    bucket = fields.CharField(max_length=32)
    key = fields.CharField(max_length=255)
    created_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "throttle_hits"
        indexes = (("bucket", "key", "created_at"),)
