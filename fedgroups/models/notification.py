"""What a local member is told about: replies, mentions, decisions on memberships, reports,
and servers this instance stops (or starts again) federating with."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from fedgroups.models.account import Account
    from fedgroups.models.actor import Actor
    from fedgroups.models.group import Group
    from fedgroups.models.post import Post
    from fedgroups.models.report import Report


class NotificationKind(StrEnum):
    REPLY = "reply"
    MENTION = "mention"
    APPROVED = "approved"  # a group accepted the member's request to join
    REJECTED = "rejected"
    JOIN_REQUEST = "join_request"  # for moderators: someone asks to join
    REPORT = "report"  # for moderators and admins: a report to look at
    REPORT_OUTCOME = "report_outcome"  # for the reporter: what was decided
    POST_HELD = "post_held"  # for moderators: a post waits for review
    DEFEDERATED = "defederated"  # the admins stopped federating with a server it concerns
    REFEDERATED = "refederated"  # ... and federate with it again


class Notification(Model):
    """One notice for one account. The page asks visibility again before showing any post."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="notifications", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(NotificationKind, max_length=16)
    actor: fields.ForeignKeyNullableRelation[Actor] = fields.ForeignKeyField(
        "models.Actor", related_name="caused_notifications", null=True, on_delete=fields.CASCADE
    )
    group: fields.ForeignKeyNullableRelation[Group] = fields.ForeignKeyField(
        "models.Group", related_name="notifications", null=True, on_delete=fields.CASCADE
    )
    post: fields.ForeignKeyNullableRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="notifications", null=True, on_delete=fields.CASCADE
    )
    report: fields.ForeignKeyNullableRelation[Report] = fields.ForeignKeyField(
        "models.Report", related_name="notifications", null=True, on_delete=fields.CASCADE
    )
    # A change of federation policy: which server, and the admins' public reason then.
    domain = fields.CharField(max_length=255, default="")
    detail = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notifications"
        indexes = (("account_id", "read_at"),)
