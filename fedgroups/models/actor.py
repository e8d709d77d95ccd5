"""Actors, local and remote, with their keys: every party that can sign or be addressed."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class ActorKind(StrEnum):
    """ActivityStreams actor types we store."""

    PERSON = "Person"
    GROUP = "Group"
    APPLICATION = "Application"
    SERVICE = "Service"
    ORGANIZATION = "Organization"


class Actor(Model):
    """An ActivityPub actor. Local actors hold their private key, remote ones are a cache."""

    id = fields.IntField(primary_key=True)
    ap_id = fields.CharField(max_length=512, unique=True)
    kind = fields.CharEnumField(ActorKind, max_length=16)
    is_local = fields.BooleanField(default=False, db_index=True)
    username = fields.CharField(max_length=255)
    domain = fields.CharField(max_length=255, db_index=True)
    # lower(username)@domain: handles resolve case-insensitively (Mastodon does the same).
    handle_key = fields.CharField(max_length=512, unique=True)
    display_name = fields.CharField(max_length=2048, default="")
    summary = fields.TextField(default="")
    url = fields.CharField(max_length=512, default="")
    inbox_url = fields.CharField(max_length=512)
    shared_inbox_url = fields.CharField(max_length=512, default="")
    outbox_url = fields.CharField(max_length=512, default="")
    followers_url = fields.CharField(max_length=512, default="")
    manually_approves_followers = fields.BooleanField(default=False)
    public_key_id = fields.CharField(max_length=512, db_index=True)
    public_key_pem = fields.TextField()
    private_key_pem = fields.TextField(null=True)
    fetched_at = fields.DatetimeField(null=True)
    gone_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "actors"

    def __str__(self) -> str:
        return f"{self.username}@{self.domain}"

    @property
    def handle(self) -> str:
        return f"{self.username}@{self.domain}"

    @property
    def delivery_inbox(self) -> str:
        """Where to deliver to this actor: its shared inbox when it has one."""
        return self.shared_inbox_url or self.inbox_url
