"""Members' posts: validated, sanitised, stored, and announced by the group to every member."""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from fedgroups.activitypub.activities import render_announce
from fedgroups.activitypub.parse import ParsedPost
from fedgroups.groups.content import plain_text, sanitize_html
from fedgroups.groups.membership import approved_members, is_member
from fedgroups.groups.outbox import new_activity_id, publish
from fedgroups.models import Actor, Group, Post


def _published(post: ParsedPost) -> datetime:
    try:
        moment = datetime.fromisoformat(post.published.replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def is_poll_vote(post: ParsedPost) -> bool:
    """A vote, as Mastodon sends it: a Note naming the option, no content, replying to the poll."""
    return post.kind == "Note" and bool(post.name) and not post.content and bool(post.in_reply_to)


async def thread_root_of(group: Group, in_reply_to: str) -> str | None:
    """The root of the thread a reply belongs to, if the group carries that thread."""
    if not in_reply_to:
        return None
    parent = await Post.get_or_none(group=group, ap_id=in_reply_to, deleted_at=None)
    if parent is None:
        return None
    return parent.thread_root or parent.ap_id


async def receive_post(group: Group, author: Actor, post: ParsedPost) -> Post | None:
    """Store a member's post in the group and announce it; None when it is not for the group.

    A post is the group's when it addresses or mentions the group, or replies in a thread the
    group carries. Only approved members' posts are announced (guppe learned this the hard way).
    """
    if is_poll_vote(post):
        return None  # votes are between voter and poll author: never redistributed
    root = await thread_root_of(group, post.in_reply_to)
    if group.actor.ap_id not in post.recipients and root is None:
        return None
    if not await is_member(group, author):
        return None
    if await Post.exists(ap_id=post.ap_id):
        return None  # a replay or a second copy: announced once only (T15)
    async with in_transaction():
        stored = await Post.create(
            ap_id=post.ap_id,
            group=group,
            author=author,
            publisher=author,
            object_type=post.kind,
            in_reply_to=post.in_reply_to,
            thread_root=root or "",
            name=plain_text(post.name, 512),
            summary=plain_text(post.summary, 2_000),
            content=sanitize_html(post.content),
            url=post.url,
            is_public=post.is_public,
            published_at=_published(post),
        )
        await announce(group, stored)
    return stored


async def announce(group: Group, post: Post) -> None:
    """The group boosts the post to all its members, the author included."""
    activity = render_announce(
        group.actor.ap_id,
        new_activity_id(group.actor),
        post.ap_id,
        followers=group.actor.followers_url,
        is_public=post.is_public and not group.is_private,
    )
    members = await approved_members(group)
    await publish(
        group.actor,
        activity,
        members,
        group=group,
        object_ap_id=post.ap_id,
        is_public=post.is_public and not group.is_private,
    )
