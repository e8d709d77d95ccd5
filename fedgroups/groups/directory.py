"""Creating groups and finding them: the instance's group directory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from fedgroups.activitypub.nodeinfo import NodeStats
from fedgroups.errors import NotFound, ValidationError
from fedgroups.groups.accounts import find_account
from fedgroups.groups.actors import create_local_actor
from fedgroups.groups.names import validate_name
from fedgroups.models import (
    Account,
    ActorKind,
    Group,
    Membership,
    MembershipRole,
    MembershipState,
    Post,
)
from fedgroups.settings import Settings

MAX_GROUP_NAME = 200


async def create_group(
    settings: Settings,
    slug: str,
    name: str,
    *,
    is_private: bool = False,
    owner_username: str | None = None,
    summary: str = "",
) -> Group:
    """A new Group actor. A members-only group approves every follow by hand."""
    validate_name(slug, what="group name")
    name = name.strip()
    if not name or len(name) > MAX_GROUP_NAME:
        raise ValidationError(f"display name must be 1 to {MAX_GROUP_NAME} characters")
    owner = await find_account(settings, owner_username) if owner_username else None
    async with in_transaction():
        actor = await create_local_actor(settings, ActorKind.GROUP, slug, name, locked=is_private)
        group = await Group.create(
            actor=actor,
            slug=slug.lower(),
            name=name,
            summary=summary,
            is_private=is_private,
            owner=owner,
        )
        if owner is not None:
            await owner.fetch_related("actor")
            await Membership.create(
                group=group,
                actor=owner.actor,
                state=MembershipState.APPROVED,
                role=MembershipRole.OWNER,
            )
    return group


async def find_group(slug: str) -> Group:
    """The group with this slug (any case), with its actor loaded; NotFound otherwise."""
    group = await Group.get_or_none(slug=slug.lower()).select_related("actor")
    if group is None or group.actor.gone_at is not None:
        raise NotFound(f"no group named {slug!r}")
    return group


async def list_groups(limit: int = 100) -> list[Group]:
    """Groups for the directory, newest first; members-only ones too (their profile is public)."""
    return (
        await Group.filter(actor__gone_at=None).order_by("-id").limit(limit).select_related("actor")
    )


async def _active_accounts(since: datetime) -> int:
    """Accounts that posted since `since` (a subquery: DISTINCT COUNT breaks on PostgreSQL)."""
    authors = Post.filter(published_at__gte=since, author__is_local=True).values("author_id")
    return await Account.filter(is_suspended=False, actor_id__in=Subquery(authors)).count()


async def node_stats() -> NodeStats:
    """Usage figures for NodeInfo. Counts only, never who."""
    now = datetime.now(UTC)
    local_posts = Post.filter(author__is_local=True, deleted_at=None)
    return NodeStats(
        users_total=await Account.filter(is_suspended=False).count(),
        users_active_month=await _active_accounts(now - timedelta(days=30)),
        users_active_halfyear=await _active_accounts(now - timedelta(days=182)),
        local_posts=await local_posts.filter(in_reply_to="").count(),
        local_comments=await local_posts.exclude(in_reply_to="").count(),
        group_count=await Group.filter(actor__gone_at=None).count(),
    )


async def search_groups(query: str, limit: int = 100) -> list[Group]:
    """Directory search by name, handle or description (case-insensitive substring)."""
    query = " ".join(query.split())[:100]
    if not query:
        return await list_groups(limit)
    matches = Group.filter(actor__gone_at=None).filter(
        Q(name__icontains=query) | Q(slug__icontains=query) | Q(summary__icontains=query)
    )
    return await matches.order_by("-id").limit(limit).select_related("actor")
