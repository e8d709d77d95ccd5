"""Moderation from other servers: reports (Flag), and what a group's remote moderators do.

FEP-1b12: a moderation activity (a Delete of someone else's post, a Block with `target` the
group, a Lock, their Undo) is honoured only when its actor is listed in the group's moderators
collection; from anyone else it is ignored, the reason kept on the inbox item. Moderators may
send it directly or wrapped in an Announce of their own. Moderators are appointed only on the
group's own server, so remote Add/Remove are ignored too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

from tortoise.expressions import Q

from fedgroups.activitypub.moderation import parse_flag, parse_moderation
from fedgroups.activitypub.parse import same_origin
from fedgroups.errors import Conflict, NotFound
from fedgroups.federation.handlers.announces import receive_announce
from fedgroups.federation.handlers.common import (
    Ignored,
    Received,
    embedded_object,
    local_groups,
)
from fedgroups.groups.flags import file_remote_report
from fedgroups.groups.following import is_followed_here
from fedgroups.groups.moderation import ban, lock_thread, remove_post, unban, unlock_thread
from fedgroups.groups.moderators import moderates
from fedgroups.groups.modlog import Acting
from fedgroups.models import Group, Post


async def receive_flag(received: Received) -> None:
    """A report from another server, for the moderators of the groups it concerns."""
    flag = parse_flag(received.activity)
    try:
        reports = await file_remote_report(received.actor, flag)
    except Conflict as exc:
        raise Ignored(str(exc)) from None
    if not reports:
        raise Ignored("the Flag names nothing here that its sender could have seen")


def _acting(received: Received) -> Acting:
    return Acting(moderator=received.actor, reason=parse_moderation(received.activity).reason)


async def _moderated_posts(received: Received, post_id: str) -> list[tuple[Group, Post]]:
    """The live copies of a post in groups the sender moderates; Ignored when there are none."""
    posts = await Post.filter(
        Q(ap_id=post_id) | Q(source_ap_id=post_id), deleted_at=None
    ).select_related("group", "group__actor", "author")
    found = [(post.group, post) for post in posts if await moderates(post.group, received.actor)]
    if not found:
        raise Ignored(
            f"{received.activity.get('type')} of {post_id} by {received.actor.ap_id}, who is "
            "neither its author nor a moderator of a group carrying it"
        )
    return found


async def remove_as_moderator(received: Received, post_id: str) -> None:
    """A listed moderator removes someone else's post (Lemmy's "remove")."""
    for group, post in await _moderated_posts(received, post_id):
        await remove_post(group, post, _acting(received), relayed=received.activity)


async def receive_lock(received: Received) -> None:
    post_id = parse_moderation(received.activity).object_id
    for group, post in await _moderated_posts(received, post_id):
        with suppress(Conflict):  # already locked: nothing more to do
            await lock_thread(group, post, _acting(received), relayed=received.activity)


async def _moderated_group(received: Received, group_id: str) -> Group:
    groups = await local_groups({group_id} if group_id else set())
    if not groups:
        raise Ignored("a moderation activity for no group hosted here")
    if not await moderates(groups[0], received.actor):
        raise Ignored(f"{received.actor.ap_id} is not a moderator of {groups[0].actor.ap_id}")
    return groups[0]


async def is_ban_in_our_group(activity: dict[str, Any]) -> bool:
    """A Block whose `target` is one of our groups: Lemmy's ban by a group's moderator."""
    target = activity.get("target")
    target = target.get("id") if isinstance(target, dict) else target
    return isinstance(target, str) and bool(await local_groups({target}))


async def receive_moderator_ban(received: Received) -> None:
    """A listed moderator bans someone from one of our groups (Lemmy's Block with `target`)."""
    parsed = parse_moderation(received.activity)
    group = await _moderated_group(received, parsed.target)
    member = await received.federation.remote_actors.get_actor(parsed.object_id)
    if member.pk == group.actor_id or await moderates(group, member):  # type: ignore[attr-defined]
        raise Ignored("moderators are banned only on the group's own server")
    await ban(
        group,
        member,
        _acting(received),
        remove_posts=parsed.remove_data,
        relayed=received.activity,
    )


async def receive_moderator_unban(received: Received) -> None:
    """Undo of such a ban, by a listed moderator."""
    block = embedded_object(received.activity) or {}
    parsed = parse_moderation(block)
    group = await _moderated_group(received, parsed.target)
    member = await received.federation.remote_actors.get_actor(parsed.object_id)
    try:
        await unban(group, member, Acting(moderator=received.actor), relayed=received.activity)
    except NotFound as exc:
        raise Ignored(str(exc)) from None


async def receive_undo_lock(received: Received) -> None:
    lock = embedded_object(received.activity)
    if lock is None:
        raise Ignored("an Undo{Lock} that does not embed the Lock")
    post_id = parse_moderation(lock).object_id
    for group, post in await _moderated_posts(received, post_id):
        with suppress(Conflict):  # not locked: nothing to undo
            await unlock_thread(
                group, post, Acting(moderator=received.actor), relayed=received.activity
            )


async def receive_collection_change(received: Received) -> None:
    """Add/Remove of moderators or pins: ours are decided on this server only."""
    kind = received.activity.get("type")
    target = parse_moderation(received.activity).target
    if target and same_origin(target, received.federation.settings.base_url):
        raise Ignored(
            f"{kind} to one of our groups' collections: moderators and pinned posts are "
            "changed on the group's own server"
        )
    raise Ignored(f"{kind} to a collection kept elsewhere: nothing here keeps a copy")


HandlerOf = Callable[[dict[str, Any]], Callable[[Received], Awaitable[None]] | None]


async def receive_announced_activity(received: Received, handler_of: HandlerOf) -> None:
    """Announce{Delete|Block|Lock|Undo}: from a remote group people here follow, a removal in
    that group (announces.py); from anyone else, their own moderation activity, wrapped.

    Only the signer's own activity is unwrapped: an embedded activity of anyone else's is not
    authenticated by the signature (T11).
    """
    inner = embedded_object(received.activity) or {}
    if await is_followed_here(received.actor):
        if inner.get("type") != "Delete":
            raise Ignored(f"an Announce of {inner.get('type')!r}: nothing here acts on it")
        await receive_announce(received)
        return
    if inner.get("actor") != received.actor.ap_id:
        raise Ignored("an Announce of someone else's activity, by an actor nobody here follows")
    handler = handler_of(inner)
    if handler is None:
        raise Ignored(f"an Announce of {inner.get('type')!r}: nothing here acts on it")
    await handler(
        Received(
            item=received.item, activity=inner, actor=received.actor, federation=received.federation
        )
    )
