"""Who belongs to which group, in which role, and where their request stands."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from fedgroups.models.actor import Actor
    from fedgroups.models.group import Group


class MembershipState(StrEnum):
    PENDING = "pending"  # asked to join a members-only group; waits for a moderator
    APPROVED = "approved"
    REJECTED = "rejected"
    BANNED = "banned"
    LEFT = "left"


class MembershipRole(StrEnum):
    MEMBER = "member"
    MODERATOR = "moderator"
    OWNER = "owner"


class Membership(Model):
    """A follow of a group by an actor, local or remote: following a group is joining it."""

    id = fields.IntField(primary_key=True)
    group: fields.ForeignKeyRelation[Group] = fields.ForeignKeyField(
        "models.Group", related_name="memberships", on_delete=fields.CASCADE
    )
    actor: fields.ForeignKeyRelation[Actor] = fields.ForeignKeyField(
        "models.Actor", related_name="memberships", on_delete=fields.CASCADE
    )
    state = fields.CharEnumField(MembershipState, max_length=16, default=MembershipState.PENDING)
    role = fields.CharEnumField(MembershipRole, max_length=16, default=MembershipRole.MEMBER)
    follow_ap_id = fields.CharField(max_length=512, default="")
    # [[question, answer], ...] as the requester answered the group's join questions.
    join_answers: list[list[str]] = fields.JSONField(default=list)
    rules_accepted_at = fields.DatetimeField(null=True)  # a local member confirmed the rules
    created_at = fields.DatetimeField(auto_now_add=True)
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "memberships"
        unique_together = (("group", "actor"),)
