"""The moderation queue: posts held by the group's rules wait here for a moderator's decision.

Approved, a post is published exactly as if it had never waited; rejected, it is dropped and
nothing of it is kept. Either way the decision goes to the moderation log.
"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from fedgroups.activitypub.parse import addressed_to
from fedgroups.errors import NotFound
from fedgroups.groups.modlog import ADMIN, Acting, record
from fedgroups.groups.posting import Draft, publish_draft
from fedgroups.models import Actor, Group, HeldPost, ModerationAction, Post

PAGE_SIZE = 50


async def held_posts(group: Group) -> list[HeldPost]:
    """What waits in the group's queue, oldest first (moderators' eyes only)."""
    return (
        await HeldPost.filter(group=group).order_by("id").limit(PAGE_SIZE).select_related("author")
    )


async def find_held_post(group: Group, held_id: int) -> HeldPost:
    held = await HeldPost.get_or_none(id=held_id, group=group).select_related("author")
    if held is None:
        raise NotFound("no such post waiting for review")
    return held


def _draft(held: HeldPost) -> Draft:
    created = held.create_activity or {}
    note = created.get("object")
    return Draft(
        ap_id=held.ap_id,
        in_reply_to=held.in_reply_to,
        is_public=held.is_public,
        published_at=held.published_at,
        fields={
            "object_type": held.object_type,
            "name": held.name,
            "summary": held.summary,
            "content": held.content,
            "url": held.url,
        },
        create=held.create_activity,
        # Whom it mentions, for the notifications of local people (as if it had not waited).
        recipients=addressed_to(note) if isinstance(note, dict) else frozenset(),
    )


async def approve_held_post(group: Group, held: HeldPost, acting: Acting = ADMIN) -> Post:
    """Publish a held post: stored and announced as usual, the decision logged."""
    async with in_transaction():
        post = await publish_draft(group, held.author, _draft(held))
        await record(
            group,
            ModerationAction.APPROVE_POST,
            acting,
            subject=held.author,
            object_ap_id=held.ap_id,
        )
        await held.delete()
    return post


async def reject_held_post(group: Group, held: HeldPost, acting: Acting = ADMIN) -> None:
    """Drop a held post: never shown, never announced, its words not kept."""
    async with in_transaction():
        await record(
            group,
            ModerationAction.REJECT_POST,
            acting,
            subject=held.author,
            object_ap_id=held.ap_id,
        )
        await held.delete()


async def drop_held_posts(group: Group, author: Actor) -> int:
    """Everything `author` has waiting in the group goes (a ban); returns how many."""
    return await HeldPost.filter(group=group, author=author).delete()
