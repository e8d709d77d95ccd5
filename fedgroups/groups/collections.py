"""The data behind a group's ActivityPub collections, one page at a time, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


# What the group published for everyone to read; Accept/Reject are private to one follower.
OUTBOX_TYPES = ("Announce", "Create", "Update", "Delete", "Undo", "Add", "Remove")


def _outbox(group: Group) -> Any:
    return OutboxActivity.filter(
        group=group,
        actor_id=group.actor_id,  # type: ignore[attr-defined]
        activity_type__in=OUTBOX_TYPES,
    )


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
    return await _followers(group).count()


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
    rows = (
        await Post.filter(group=group, is_pinned=True, deleted_at=None)
        .order_by("-published_at")
        .values_list("ap_id", flat=True)
    )
    return [str(row) for row in rows]
