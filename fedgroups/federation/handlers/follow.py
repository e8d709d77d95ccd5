"""Follow, Undo Follow and Block of our groups: joining and leaving."""

from __future__ import annotations

from fedgroups.federation.handlers.common import Received, embedded_object, local_groups, object_id
from fedgroups.federation.software import learn_software
from fedgroups.groups.joining import receive_join_request
from fedgroups.groups.moderators import member_left


async def receive_follow(received: Received) -> None:
    groups = await local_groups({object_id(received.activity)})
    if groups:
        # Known before the first boost, so the member gets the form their software reads.
        await learn_software(received.federation.client, received.actor)
    for group in groups:  # at most one: a Follow names one object
        await receive_join_request(group, received.actor, received.activity["id"])


async def receive_undo_follow(received: Received) -> None:
    follow = embedded_object(received.activity) or {}
    groups = await local_groups({object_id(follow)} if follow else set())
    for group in groups:
        await member_left(group, received.actor)


async def receive_member_block(received: Received) -> None:
    """A member blocking the group leaves it: Mastodon sends Undo Follow, then Block (4.1)."""
    for group in await local_groups({object_id(received.activity)}):
        await member_left(group, received.actor)
