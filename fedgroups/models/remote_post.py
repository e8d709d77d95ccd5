"""Posts in groups hosted on other servers: what local people wrote there, and what they carry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from fedgroups.models.actor import Actor


class RemoteGroupPost(Model):
    """A post in a remote group, as this instance knows it.

    Either written here by a local person (its id is under /u/NAME/posts/, `source` keeps the
    Markdown) or received from a followed group's Announce. The group hosting it moderates and
    redistributes it, never this instance, which is why these are not `Post` rows. Field names
    follow `Post`, so pages can show both alike.
    """

    id = fields.IntField(primary_key=True)
    ap_id = fields.CharField(max_length=512, db_index=True)
    group_actor: fields.ForeignKeyRelation[Actor] = fields.ForeignKeyField(
        "models.Actor", related_name="carried_posts", on_delete=fields.CASCADE
    )
    author: fields.ForeignKeyRelation[Actor] = fields.ForeignKeyField(
        "models.Actor", related_name="remote_group_posts", on_delete=fields.CASCADE
    )
    object_type = fields.CharField(max_length=16, default="Note")
    in_reply_to = fields.CharField(max_length=512, default="", db_index=True)
    thread_root = fields.CharField(max_length=512, default="", db_index=True)
    name = fields.CharField(max_length=512, default="")
    summary = fields.TextField(default="")  # content warning
    content = fields.TextField(default="")  # sanitised HTML
    source = fields.TextField(default="")  # the Markdown a local author wrote
    url = fields.CharField(max_length=512, default="")
    is_public = fields.BooleanField(default=True)
    # The group's Announce of the post (its Create, for a Note the group wrote itself): set
    # once the group carries it. An Undo of that Announce withdraws the post.
    announce_ap_id = fields.CharField(max_length=512, default="", db_index=True)
    announced_at = fields.DatetimeField(null=True)
    removed_at = fields.DatetimeField(null=True)  # the group withdrew its Announce
    published_at = fields.DatetimeField(db_index=True)
    updated_at = fields.DatetimeField(null=True)
    deleted_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "remote_group_posts"
        unique_together = (("group_actor", "ap_id"),)
        indexes = (("group_actor_id", "published_at"),)
