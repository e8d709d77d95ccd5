"""What moderators decide and remember: the moderation log, held posts, keyword rules."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from fedgroups.models.actor import Actor
    from fedgroups.models.group import Group


class ModerationAction(StrEnum):
    APPROVE_MEMBER = "approve_member"
    REJECT_MEMBER = "reject_member"
    APPOINT_MODERATOR = "appoint_moderator"
    DISMISS_MODERATOR = "dismiss_moderator"
    HOLD_POST = "hold_post"  # a rule held a post for review
    APPROVE_POST = "approve_post"
    REJECT_POST = "reject_post"
    REMOVE_POST = "remove_post"
    LOCK_THREAD = "lock_thread"
    UNLOCK_THREAD = "unlock_thread"
    BAN = "ban"
    UNBAN = "unban"
    DISMISS_REPORT = "dismiss_report"
    FORWARD_REPORT = "forward_report"
    CHANGE_RULES = "change_rules"
    # Instance-level actions (no group): the admins' own log.
    BLOCK_DOMAIN = "block_domain"
    UNBLOCK_DOMAIN = "unblock_domain"
    ALLOW_DOMAIN = "allow_domain"
    DISALLOW_DOMAIN = "disallow_domain"
    DENY_DOMAIN = "deny_domain"
    FEDERATION_MODE = "federation_mode"
    REGISTRATION_MODE = "registration_mode"
    SUSPEND_ACCOUNT = "suspend_account"
    UNSUSPEND_ACCOUNT = "unsuspend_account"


class ModerationEntry(Model):
    """One line of a group's moderation log: who did what to whom, when, and why.

    `moderator` is empty when an instance admin acted from the command line, or when a rule
    acted on its own (`is_automatic`). Members of the group read the log, so it names people
    and posts but never quotes what a post said.
    """

    id = fields.IntField(primary_key=True)
    group: fields.ForeignKeyNullableRelation[Group] = fields.ForeignKeyField(
        "models.Group", related_name="moderation_entries", null=True, on_delete=fields.CASCADE
    )
    action = fields.CharEnumField(ModerationAction, max_length=24)
    moderator: fields.ForeignKeyNullableRelation[Actor] = fields.ForeignKeyField(
        "models.Actor", related_name="moderation_done", null=True, on_delete=fields.SET_NULL
    )
    is_automatic = fields.BooleanField(default=False)
    subject: fields.ForeignKeyNullableRelation[Actor] = fields.ForeignKeyField(
        "models.Actor", related_name="moderation_received", null=True, on_delete=fields.SET_NULL
    )
    # the post or thread acted on; for an instance-level action, the domain or the new mode
    object_ap_id = fields.CharField(max_length=512, default="")
    reason = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "moderation_entries"
        indexes = (("group_id", "created_at"),)


class HeldPost(Model):
    """A member's post waiting for a moderator, exactly as it would be published.

    Nothing held is shown or announced: it lives here, not among the group's posts, until a
    moderator approves it (then it is published as usual) or rejects it (then it is dropped).
    """

    id = fields.IntField(primary_key=True)
    group: fields.ForeignKeyRelation[Group] = fields.ForeignKeyField(
        "models.Group", related_name="held_posts", on_delete=fields.CASCADE
    )
    author: fields.ForeignKeyRelation[Actor] = fields.ForeignKeyField(
        "models.Actor", related_name="held_posts", on_delete=fields.CASCADE
    )
    ap_id = fields.CharField(max_length=512)  # the author's own object
    object_type = fields.CharField(max_length=16, default="Note")
    in_reply_to = fields.CharField(max_length=512, default="")
    name = fields.CharField(max_length=512, default="")
    summary = fields.TextField(default="")
    content = fields.TextField(default="")  # sanitised HTML
    url = fields.CharField(max_length=512, default="")
    is_public = fields.BooleanField(default=True)
    published_at = fields.DatetimeField()
    create_activity: dict[str, Any] | None = fields.JSONField(null=True)
    reason = fields.TextField(default="")  # why it waits, for moderators only
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "held_posts"
        unique_together = (("group", "ap_id"),)


class KeywordAction(StrEnum):
    HOLD = "hold"  # the post waits for a moderator
    REJECT = "reject"  # the post is refused outright


class KeywordRule(Model):
    """A word or phrase that holds or rejects a post: in one group, or (no group) everywhere."""

    id = fields.IntField(primary_key=True)
    group: fields.ForeignKeyNullableRelation[Group] = fields.ForeignKeyField(
        "models.Group", related_name="keyword_rules", null=True, on_delete=fields.CASCADE
    )
    phrase = fields.CharField(max_length=100)  # stored case-folded
    action = fields.CharEnumField(KeywordAction, max_length=8, default=KeywordAction.HOLD)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "keyword_rules"
