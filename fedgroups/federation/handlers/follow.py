"""Follow and Undo Follow of our groups: joining and leaving."""

from __future__ import annotations

from fedgroups.federation.handlers.common import Received, embedded_object, local_groups, object_id
from fedgroups.groups.membership import leave_group, request_membership


async def receive_follow(received: Received) -> None:
    groups = await local_groups({object_id(received.activity)})
    for group in groups:  # at most one: a Follow names one object
        await request_membership(group, received.actor, received.activity["id"])


async def receive_undo_follow(received: Received) -> None:
    follow = embedded_object(received.activity) or {}
    groups = await local_groups({object_id(follow)} if follow else set())
    for group in groups:
        await leave_group(group, received.actor)
