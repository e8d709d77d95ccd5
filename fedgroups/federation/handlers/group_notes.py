"""Notes a followed remote group writes in its own name: its Create, Update and Delete.

Members-only groups republish their members' posts this way (federation-interop.md 7.2), so
this is how their posts reach the members here. Only groups with an accepted local member are
listened to, and only for their own Notes; anything else is a post to one of our groups, for
the `notes` handlers.
"""

from __future__ import annotations

from fedgroups.activitypub.parse import ParsedPost, same_origin
from fedgroups.errors import MalformedActivity
from fedgroups.federation.handlers import notes
from fedgroups.federation.handlers.announces import authentic_post
from fedgroups.federation.handlers.common import Ignored, Received, embedded_object, object_id
from fedgroups.groups.following import is_followed_here
from fedgroups.groups.remote_posts import (
    apply_post_update,
    delete_post_copies,
    holds_post,
    store_announced_post,
)
from fedgroups.models import ActorKind


async def _from_followed_group(received: Received) -> bool:
    sender = received.actor
    return sender.kind == ActorKind.GROUP and not sender.is_local and await is_followed_here(sender)


async def _group_note(received: Received) -> ParsedPost:
    target = object_id(received.activity)
    if not target:
        raise MalformedActivity("no object")
    post = await authentic_post(received, target, embedded_object(received.activity))
    if post.attributed_to != received.actor.ap_id:
        raise Ignored("a group relays others' posts by Announce, not by Create")
    return post


async def receive_create(received: Received) -> None:
    """A followed group's own Note is kept under it; any other Create is a post to our groups."""
    if not await _from_followed_group(received):
        await notes.receive_create_post(received)
        return
    post = await _group_note(received)
    group = received.actor
    await store_announced_post(group, group, post, str(received.activity["id"]))


async def receive_update(received: Received) -> None:
    if not await _from_followed_group(received):
        await notes.receive_update_post(received)
        return
    if not await holds_post(object_id(received.activity)):
        raise Ignored("not a post kept here")
    await apply_post_update(await _group_note(received))


async def receive_delete(received: Received) -> None:
    target = object_id(received.activity)
    if target == received.actor.ap_id or not await _from_followed_group(received):
        await notes.receive_delete(received)  # an account deletion, or a post to our groups
        return
    if not same_origin(target, received.actor.ap_id):
        raise MalformedActivity("a Delete of another origin's object")
    if not await delete_post_copies(target):
        raise Ignored("not a post kept here")
