"""Posts carried by remote groups that local people follow: stored from the group's Announce,
then updated, deleted or withdrawn as the author and the group say.

The inbox handlers decide what is authentic (fetching from the origin when in doubt); this
module only records it. Pages read these posts through `visibility.readable_remote_posts`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError

from fedgroups.activitypub.parse import ParsedPost
from fedgroups.groups.content import plain_text, sanitize_html
from fedgroups.models import Actor, RemoteGroupPost


def published_at(post: ParsedPost) -> datetime:
    """The author's publication time, or now when it is missing or unreadable."""
    try:
        moment = datetime.fromisoformat(post.published.replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def thread_root_in(group: Actor, in_reply_to: str) -> str:
    """The root of the thread a reply belongs to in `group`, or "" when it starts one."""
    if not in_reply_to:
        return ""
    parent = await RemoteGroupPost.get_or_none(group_actor=group, ap_id=in_reply_to)
    if parent is None:
        return in_reply_to  # a parent we never saw: the best root we know
    return parent.thread_root or parent.ap_id


async def store_announced_post(
    group: Actor, author: Actor, post: ParsedPost, announce_id: str
) -> RemoteGroupPost | None:
    """Keep a post `group` announced, sanitised; None when it was deleted here already."""
    now = datetime.now(UTC)
    existing = await RemoteGroupPost.get_or_none(group_actor=group, ap_id=post.ap_id)
    if existing is None:
        try:
            return await RemoteGroupPost.create(
                ap_id=post.ap_id,
                group_actor=group,
                author=author,
                object_type=post.kind,
                in_reply_to=post.in_reply_to,
                thread_root=await thread_root_in(group, post.in_reply_to),
                name=plain_text(post.name, 512),
                summary=plain_text(post.summary, 2_000),
                content=sanitize_html(post.content),
                url=post.url,
                is_public=post.is_public,
                announce_ap_id=announce_id,
                announced_at=now,
                published_at=published_at(post),
            )
        except IntegrityError:  # the same Announce processed twice at once (T18)
            existing = await RemoteGroupPost.get(group_actor=group, ap_id=post.ap_id)
    if existing.deleted_at is not None:
        return None
    return await _carried(existing, announce_id, now)


async def mark_announced(group: Actor, ap_id: str, announce_id: str) -> RemoteGroupPost | None:
    """The group shared a local person's post that was sent to it: it is in the group now."""
    post = await RemoteGroupPost.get_or_none(group_actor=group, ap_id=ap_id, deleted_at=None)
    if post is None:
        return None
    return await _carried(post, announce_id, datetime.now(UTC))


async def _carried(post: RemoteGroupPost, announce_id: str, now: datetime) -> RemoteGroupPost:
    if post.announce_ap_id == announce_id and post.removed_at is None:
        return post  # a replay of the same Announce
    post.announce_ap_id, post.announced_at, post.removed_at = announce_id, now, None
    await post.save(update_fields=["announce_ap_id", "announced_at", "removed_at"])
    return post


async def holds_post(ap_id: str) -> bool:
    return await RemoteGroupPost.exists(ap_id=ap_id, deleted_at=None)


async def apply_post_update(post: ParsedPost) -> int:
    """The author edited a post: every copy kept here takes the new text (never new addressing,
    never another author: T12). Returns how many copies changed.
    """
    return await RemoteGroupPost.filter(
        ap_id=post.ap_id, author__ap_id=post.attributed_to, deleted_at=None
    ).update(
        name=plain_text(post.name, 512),
        summary=plain_text(post.summary, 2_000),
        content=sanitize_html(post.content),
        updated_at=datetime.now(UTC),
    )


async def delete_post_copies(ap_id: str) -> int:
    """The post is gone at its origin: forget its words here, keep a tombstone row."""
    return await RemoteGroupPost.filter(ap_id=ap_id, deleted_at=None).update(
        deleted_at=datetime.now(UTC), content="", summary="", name="", source=""
    )


async def withdraw_announce(group: Actor, announce_id: str) -> int:
    """The group took back its Announce (a moderator removed the post)."""
    return await RemoteGroupPost.filter(
        group_actor=group, announce_ap_id=announce_id, removed_at=None
    ).update(removed_at=datetime.now(UTC))
