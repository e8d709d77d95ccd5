"""A remote group's answers to local people who follow it: Accept, Reject, Block, Undo Block.

(A Block or its Undo about one of our own groups goes to `follow` or `moderation`.)

The sender is the verified group itself, and only subscriptions to that group can change, so
nobody can accept, remove or ban on a group's behalf (federation-interop.md 4.1, 4.6).
"""

from __future__ import annotations

from fedgroups.activitypub.references import parse_follow_answer, parse_undo
from fedgroups.errors import MalformedActivity
from fedgroups.federation.handlers.common import (
    Ignored,
    Received,
    embedded_object,
    local_groups,
    object_id,
)
from fedgroups.federation.handlers.follow import receive_member_block
from fedgroups.federation.handlers.moderation import (
    is_ban_in_our_group,
    receive_moderator_ban,
    receive_moderator_unban,
)
from fedgroups.groups.following import record_ban, record_follow_answer, record_unban


async def _answer(received: Received, *, accepted: bool) -> None:
    answer = parse_follow_answer(received.activity)
    if answer.followed and answer.followed != received.actor.ap_id:
        raise MalformedActivity("the answer is about a Follow of another actor")
    subscription = await record_follow_answer(
        received.actor, answer.follow_id, answer.follower, accepted=accepted
    )
    if subscription is None:
        raise Ignored("no Follow sent from here matches")


async def receive_accept_follow(received: Received) -> None:
    await _answer(received, accepted=True)


async def receive_reject_follow(received: Received) -> None:
    """Reject of a pending Follow refuses it; of an accepted one removes the member."""
    await _answer(received, accepted=False)


async def receive_block(received: Received) -> None:
    """Block{actor: group, object: local person}: the group banned them.

    A Block of one of our own groups (a member blocking it) is the group's business, and so
    is a Block whose `target` is one of our groups (a moderator's ban, Lemmy's shape).
    """
    target = object_id(received.activity)
    if await local_groups({target}):
        await receive_member_block(received)
    elif await is_ban_in_our_group(received.activity):
        await receive_moderator_ban(received)
    elif await record_ban(received.actor, target) is None:
        raise Ignored("the Block is not a group banning someone here")


async def receive_undo_block(received: Received) -> None:
    block = embedded_object(received.activity)
    if block is not None and await is_ban_in_our_group(block):
        await receive_moderator_unban(received)
        return
    undone = parse_undo(received.activity)
    if await record_unban(received.actor, undone.object_id) is None:
        raise Ignored("no ban by this actor to lift")
