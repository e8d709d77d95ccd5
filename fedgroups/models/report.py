"""Reports: someone, here or elsewhere, tells a group's moderators about a post or a person."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from fedgroups.models.actor import Actor
    from fedgroups.models.group import Group
    from fedgroups.models.post import Post


class ReportState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"  # a moderator acted on it
    DISMISSED = "dismissed"  # a moderator looked and decided nothing needed doing


class Report(Model):
    """One report to one group's moderators and the instance admins.

    `group` is empty when a report names nothing any group here carries: then only the
    instance admins see it. A remote report's `reporter` is usually the other server's
    instance actor (Mastodon hides who reported), and `flag_ap_id` is its Flag.
    """

    id = fields.IntField(primary_key=True)
    group: fields.ForeignKeyNullableRelation[Group] = fields.ForeignKeyField(
        "models.Group", related_name="reports", null=True, on_delete=fields.CASCADE
    )
    reporter: fields.ForeignKeyNullableRelation[Actor] = fields.ForeignKeyField(
        "models.Actor", related_name="reports_made", null=True, on_delete=fields.SET_NULL
    )
    reported_actor: fields.ForeignKeyNullableRelation[Actor] = fields.ForeignKeyField(
        "models.Actor", related_name="reports_about", null=True, on_delete=fields.CASCADE
    )
    post: fields.ForeignKeyNullableRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="reports", null=True, on_delete=fields.CASCADE
    )
    comment = fields.TextField(default="")  # plain text, as the reporter wrote it
    flag_ap_id = fields.CharField(max_length=512, default="", db_index=True)
    state = fields.CharEnumField(ReportState, max_length=16, default=ReportState.OPEN)
    resolution = fields.TextField(default="")  # what was done, told to a local reporter
    resolved_by: fields.ForeignKeyNullableRelation[Actor] = fields.ForeignKeyField(
        "models.Actor", related_name="reports_resolved", null=True, on_delete=fields.SET_NULL
    )
    resolved_at = fields.DatetimeField(null=True)
    forwarded_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "reports"
