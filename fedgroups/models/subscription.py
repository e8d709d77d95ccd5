"""Local people's follows of groups hosted on other servers, and where each request stands."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from fedgroups.models.actor import Actor


class GroupSubscriptionState(StrEnum):
    PENDING = "pending"  # Follow sent, the group has not answered yet
    ACCEPTED = "accepted"  # the group accepted: the person is a member there
    REJECTED = "rejected"  # the group refused the request
    REMOVED = "removed"  # the group removed the member after accepting (Reject after Accept)
    BANNED = "banned"  # the group blocked the person: no more following or posting
    LEFT = "left"  # the person unfollowed


class GroupSubscription(Model):
    """A local person's Follow of a remote group: joining a group that lives elsewhere.

    `follow_ap_id` is the Follow last sent, which the group's Accept or Reject names.
    """

    id = fields.IntField(primary_key=True)
    actor: fields.ForeignKeyRelation[Actor] = fields.ForeignKeyField(
        "models.Actor", related_name="group_subscriptions", on_delete=fields.CASCADE
    )
    group_actor: fields.ForeignKeyRelation[Actor] = fields.ForeignKeyField(
        "models.Actor", related_name="local_subscribers", on_delete=fields.CASCADE
    )
    state = fields.CharEnumField(
        GroupSubscriptionState, max_length=16, default=GroupSubscriptionState.PENDING
    )
    follow_ap_id = fields.CharField(max_length=512, default="", db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    decided_at = fields.DatetimeField(null=True)  # when the group last answered

    class Meta:
        table = "group_subscriptions"
        unique_together = (("actor", "group_actor"),)
