"""Support groups hosted here; each is a Group actor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from fedgroups.models.account import Account
    from fedgroups.models.actor import Actor


class Group(Model):
    """A support group. `is_private` means members-only: follows need approval, nothing leaks."""

    id = fields.IntField(primary_key=True)
    actor: fields.OneToOneRelation[Actor] = fields.OneToOneField(
        "models.Actor", related_name="group", on_delete=fields.CASCADE
    )
    slug = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200)
    summary = fields.TextField(default="")
    rules = fields.TextField(default="")
    is_private = fields.BooleanField(default=False)
    # Asked of people who request to join a members-only group here (a list of strings).
    join_questions: list[str] = fields.JSONField(default=list)
    # A new member's first N posts wait for a moderator (0: nobody's posts wait).
    review_first_posts = fields.IntField(default=0)
    # Servers of members that the admins' federation policy cut off, kept when the policy
    # changes (`groups.severance`) so the group's page says so without scanning its members.
    severed_domains: list[str] = fields.JSONField(default=list)
    owner: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="owned_groups", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "groups"
