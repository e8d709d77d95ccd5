"""Holding back harm: removing a post, locking a thread, banning and unbanning a member.

Each action changes what the group carries, tells members' servers in the form their software
reads (federation-interop.md 4.6), and writes the moderation log, all in one transaction.
`relayed` is a remote moderator's own activity when they took the action: FEP-1b12 members
get it wrapped verbatim, as the FEP asks, instead of one of ours.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from fedgroups.activitypub.activities import render_undo
from fedgroups.activitypub.moderation import render_group_ban, render_lock
from fedgroups.errors import Conflict, NotFound
from fedgroups.groups.announcing import (
    relay_activity,
    relay_group_activity,
    relay_removal,
    withdraw_announces,
)
from fedgroups.groups.membership import ban_member, unban_member
from fedgroups.groups.moderators import step_down
from fedgroups.groups.modlog import ADMIN, Acting, record, signer_of
from fedgroups.groups.outbox import new_activity_id
from fedgroups.groups.posting import tombstone
from fedgroups.groups.republish import publish_note_deletion
from fedgroups.groups.review import drop_held_posts
from fedgroups.models import (
    Actor,
    Group,
    Membership,
    ModerationAction,
    OutboxActivity,
    Post,
)


async def find_post(group: Group, ap_id: str) -> Post:
    """A live post the group carries, by its id or (members-only groups) the member's own id."""
    post = (
        await Post.filter(group=group, deleted_at=None, ap_id=ap_id)
        .select_related("author")
        .first()
        or await Post.filter(group=group, deleted_at=None, source_ap_id=ap_id)
        .select_related("author")
        .first()
    )
    if post is None:
        raise NotFound(f"{group.slug} carries no post {ap_id}")
    return post


async def remove_post(
    group: Group, post: Post, acting: Acting = ADMIN, *, relayed: dict[str, Any] | None = None
) -> None:
    """Take a post out of the group: tombstoned here, and gone from members' servers.

    Microblogs get `Undo{Announce}` (Mastodon ignores a Delete of someone else's post),
    FEP-1b12 software an `Announce{Delete}` by the group (Lemmy's "remove"), and a members-only
    group deletes its own Note of it.
    """
    async with in_transaction():
        await tombstone(post)
        if post.publisher_id == group.actor_id:  # type: ignore[attr-defined]
            await publish_note_deletion(group, post)
        else:
            await withdraw_announces(group, post)
            if relayed is not None:
                await relay_activity(group, post, relayed)
            else:
                await relay_removal(group, post)
        await record(
            group,
            ModerationAction.REMOVE_POST,
            acting,
            subject=post.author,
            object_ap_id=post.source_ap_id or post.ap_id,
        )


async def _thread_root(group: Group, post: Post) -> Post:
    """The first post of the thread, as stored now (the caller's copy may be stale)."""
    root = await Post.get_or_none(group=group, ap_id=post.thread_root or post.ap_id)
    return root if root is not None else post


async def lock_thread(
    group: Group, post: Post, acting: Acting = ADMIN, *, relayed: dict[str, Any] | None = None
) -> Post:
    """No more replies in the thread `post` belongs to are shared; FEP-1b12 members get `Lock`."""
    root = await _thread_root(group, post)
    if root.locked_at is not None:
        raise Conflict("the thread is already locked")
    async with in_transaction():
        root.locked_at = datetime.now(UTC)
        await root.save(update_fields=["locked_at"])
        lock = relayed or _lock(group, root, acting)
        await relay_group_activity(group, lock, object_ap_id=root.ap_id)
        await record(group, ModerationAction.LOCK_THREAD, acting, object_ap_id=root.ap_id)
    return root


async def unlock_thread(
    group: Group, post: Post, acting: Acting = ADMIN, *, relayed: dict[str, Any] | None = None
) -> Post:
    """Replies are shared again; FEP-1b12 members get `Undo{Lock}`."""
    root = await _thread_root(group, post)
    if root.locked_at is None:
        raise Conflict("the thread is not locked")
    async with in_transaction():
        root.locked_at = None
        await root.save(update_fields=["locked_at"])
        if relayed is None:
            signer = signer_of(group, acting)
            lock = await _last_relayed(group, root.ap_id, "Lock") or _lock(group, root, acting)
            relayed = render_undo(signer.ap_id, new_activity_id(signer), lock)
        await relay_group_activity(group, relayed, object_ap_id=root.ap_id)
        await record(group, ModerationAction.UNLOCK_THREAD, acting, object_ap_id=root.ap_id)
    return root


def _lock(group: Group, root: Post, acting: Acting) -> dict[str, Any]:
    signer = signer_of(group, acting)
    return render_lock(
        signer.ap_id,
        new_activity_id(signer),
        root.ap_id,
        group_id=group.actor.ap_id,
        followers=group.actor.followers_url,
        is_public=not group.is_private,
    )


async def _last_relayed(group: Group, object_ap_id: str, kind: str) -> dict[str, Any] | None:
    """The last activity of `kind` the group announced about `object_ap_id` (for its Undo)."""
    rows = await OutboxActivity.filter(
        group=group, activity_type="Announce", object_ap_id=object_ap_id
    ).order_by("-id")
    for row in rows:
        inner = row.payload.get("object")
        if isinstance(inner, dict) and inner.get("type") == kind:
            return inner
    return None


async def ban(
    group: Group,
    member: Actor,
    acting: Acting = ADMIN,
    *,
    remove_posts: bool = False,
    relayed: dict[str, Any] | None = None,
) -> Membership:
    """Ban `member`: Block and Reject to them, membership ended, their held posts dropped.

    A moderator banned is a moderator no more. With `remove_posts`, everything they posted in
    the group is removed too (Lemmy's `removeData`). FEP-1b12 members get the ban in Lemmy's
    shape, so their servers show it.
    """
    async with in_transaction():
        await step_down(group, member)
        membership = await ban_member(group, member)
        await drop_held_posts(group, member)
        if remove_posts:
            posts = Post.filter(group=group, author=member, deleted_at=None)
            for post in await posts.select_related("author"):
                await remove_post(group, post, acting)
        relayed = relayed or _group_ban(group, member, acting, remove_data=remove_posts)
        await relay_group_activity(group, relayed, object_ap_id=member.ap_id, among_members=True)
        await record(group, ModerationAction.BAN, acting, subject=member)
    return membership


async def unban(
    group: Group, member: Actor, acting: Acting = ADMIN, *, relayed: dict[str, Any] | None = None
) -> Membership:
    """Lift a ban: `Undo{Block}` to them and FEP-1b12 members; they may ask to join again."""
    async with in_transaction():
        membership = await unban_member(group, member)
        if relayed is None:
            signer = signer_of(group, acting)
            block = await _last_relayed(group, member.ap_id, "Block") or _group_ban(
                group, member, acting, remove_data=False
            )
            relayed = render_undo(signer.ap_id, new_activity_id(signer), block)
        await relay_group_activity(group, relayed, object_ap_id=member.ap_id, among_members=True)
        await record(group, ModerationAction.UNBAN, acting, subject=member)
    return membership


def _group_ban(group: Group, member: Actor, acting: Acting, *, remove_data: bool) -> dict[str, Any]:
    signer = signer_of(group, acting)
    return render_group_ban(
        signer.ap_id,
        new_activity_id(signer),
        member.ap_id,
        group_id=group.actor.ap_id,
        followers=group.actor.followers_url,
        reason=acting.cleaned_reason,
        remove_data=remove_data,
    )
