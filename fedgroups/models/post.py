"""Posts carried by groups: members' notes and replies, and what the group republished."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.expressions import Q
from tortoise.models import Model

if TYPE_CHECKING:
    from fedgroups.models.actor import Actor
    from fedgroups.models.group import Group


class Post(Model):
    """A post in a group. `author` wrote it, `publisher` is the actor it appears under.

    They differ when a members-only group republishes a member's post as its own Note (and,
    later, for anonymous posting), so moderators can always act on the real author.
    """

    id = fields.IntField(primary_key=True)
    # Unique per group: a post that mentions two of our groups is carried by each.
    ap_id = fields.CharField(max_length=512, db_index=True)
    # The member's own object when the group republished it as its own Note ("" otherwise).
    source_ap_id = fields.CharField(max_length=512, default="", db_index=True)
    group: fields.ForeignKeyRelation[Group] = fields.ForeignKeyField(
        "models.Group", related_name="posts", on_delete=fields.CASCADE
    )
    author: fields.ForeignKeyRelation[Actor] = fields.ForeignKeyField(
        "models.Actor", related_name="authored_posts", on_delete=fields.CASCADE
    )
    publisher: fields.ForeignKeyRelation[Actor] = fields.ForeignKeyField(
        "models.Actor", related_name="published_posts", on_delete=fields.CASCADE
    )
    object_type = fields.CharField(max_length=16, default="Note")
    in_reply_to = fields.CharField(max_length=512, default="", db_index=True)
    thread_root = fields.CharField(max_length=512, default="", db_index=True)
    name = fields.CharField(max_length=512, default="")
    summary = fields.TextField(default="")  # content warning
    content = fields.TextField(default="")  # sanitised HTML
    url = fields.CharField(max_length=512, default="")
    is_public = fields.BooleanField(default=True)
    is_pinned = fields.BooleanField(default=False)
    # Set on a thread's first post: replies are no longer announced (a moderator locked it).
    locked_at = fields.DatetimeField(null=True)
    # The Create as received, verbatim: FEP-1b12 peers get it embedded in the group's Announce.
    create_activity: dict[str, Any] | None = fields.JSONField(null=True)
    published_at = fields.DatetimeField(db_index=True)
    updated_at = fields.DatetimeField(null=True)
    deleted_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "posts"
        unique_together = (("group", "ap_id"),)
        # A group's threads newest first; its pinned posts and the replies counted per thread
        # are found without walking the group's other posts.
        indexes = (
            ("group_id", "published_at"),
            ("group_id", "is_pinned", "published_at"),
            ("group_id", "thread_root"),
        )


async def live_copy(group_id: int, ap_id: str) -> Post | None:
    """The group's live copy of a post, by its id or (republished) its original's id.

    Found through the id indexes and then picked by group: with the group in the WHERE
    clause, SQLite walks the group's index instead, every post the group ever carried.
    """
    copies = await Post.filter(Q(ap_id=ap_id) | Q(source_ap_id=ap_id), deleted_at=None).order_by(
        "id"
    )
    return next((copy for copy in copies if copy.group_id == group_id), None)  # type: ignore[attr-defined]


async def republished_copy(group_id: int, source_ap_id: str) -> Post | None:
    """The group's own Note of a member's post it republished (deleted or not), if any.

    By the source's index, then picked by group, as `live_copy` does: few groups carry one post.
    """
    copies = await Post.filter(source_ap_id=source_ap_id).order_by("id")
    return next((copy for copy in copies if copy.group_id == group_id), None)  # type: ignore[attr-defined]
