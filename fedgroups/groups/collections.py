"""The data behind a group's ActivityPub collections, one page at a time, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Subquery

from fedgroups.activitypub.vocabulary import COLLECTION_PAGE_SIZE
from fedgroups.models import (
    Group,
    Membership,
    MembershipRole,
    MembershipState,
    OutboxActivity,
    Post,
)


@dataclass(frozen=True)
class Page:
    items: list[Any]
    has_next: bool


def _page_bounds(page: int) -> tuple[int, int]:
    page = max(1, page)
    return (page - 1) * COLLECTION_PAGE_SIZE, COLLECTION_PAGE_SIZE + 1


# What the group shares with its audience; Accept/Reject/Block are private to one actor.
OUTBOX_TYPES = ("Announce", "Create", "Update", "Delete", "Undo", "Add", "Remove")


def _outbox(group: Group) -> Any:
    """What the group shared about its live posts, newest first.

    Only activities about a post the group still carries: nothing about a deleted post
    (a wrapped Create or Update would still hold its words), and nothing about a person
    (bans and their Undo are for that person alone). A public group lists only what it sent
    publicly; followers-only activities reach members by delivery.
    """
    live_posts = Post.filter(group=group, deleted_at=None).values("ap_id")
    rows = OutboxActivity.filter(
        group=group,
        actor_id=group.actor_id,  # type: ignore[attr-defined]
        activity_type__in=OUTBOX_TYPES,
        object_ap_id__in=Subquery(live_posts),
    )
    return rows if group.is_private else rows.filter(is_public=True)


async def count_outbox(group: Group) -> int:
    return int(await _outbox(group).count())


async def outbox_page(group: Group, page: int) -> Page:
    offset, limit = _page_bounds(page)
    rows = await (
        _outbox(group).order_by("-id").offset(offset).limit(limit).values_list("payload", flat=True)
    )
    return Page(items=list(rows[:COLLECTION_PAGE_SIZE]), has_next=len(rows) > COLLECTION_PAGE_SIZE)


def _followers(group: Group) -> Any:
    return Membership.filter(group=group, state=MembershipState.APPROVED)


async def count_followers(group: Group) -> int:
    count: int = await _followers(group).count()
    return count


async def followers_page(group: Group, page: int) -> Page:
    offset, limit = _page_bounds(page)
    rows = await (_followers(group).order_by("-id").offset(offset).limit(limit)).values_list(
        "actor__ap_id", flat=True
    )
    return Page(items=list(rows[:COLLECTION_PAGE_SIZE]), has_next=len(rows) > COLLECTION_PAGE_SIZE)


async def moderator_ids(group: Group) -> list[str]:
    rows = await Membership.filter(
        group=group,
        state=MembershipState.APPROVED,
        role__in=[MembershipRole.MODERATOR, MembershipRole.OWNER],
    ).values_list("actor__ap_id", flat=True)
    return [str(row) for row in rows]


async def featured_ids(group: Group) -> list[str]:
    """Pinned posts, newest first (a public group pins only public ones)."""
    rows = Post.filter(group=group, is_pinned=True, deleted_at=None)
    if not group.is_private:
        rows = rows.filter(is_public=True)
    ids = await rows.order_by("-published_at").values_list("ap_id", flat=True)
    return [str(row) for row in ids]


def _replies(group: Group, post: Post) -> Any:
    rows = Post.filter(group=group, in_reply_to=post.ap_id, deleted_at=None)
    return rows if group.is_private else rows.filter(is_public=True)


async def count_replies(group: Group, post: Post) -> int:
    return int(await _replies(group, post).count())


async def replies_page(group: Group, post: Post, page: int) -> Page:
    """Replies the group carries, oldest first, as a thread reads."""
    offset, limit = _page_bounds(page)
    rows = await (
        _replies(group, post)
        .order_by("published_at", "id")
        .offset(offset)
        .limit(limit)
        .values_list("ap_id", flat=True)
    )
    return Page(items=list(rows[:COLLECTION_PAGE_SIZE]), has_next=len(rows) > COLLECTION_PAGE_SIZE)
