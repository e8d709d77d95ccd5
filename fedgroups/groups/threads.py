"""Reading a group: its threads newest-active first, one thread as a tree, pinned posts.

The same shapes serve groups hosted here (`Post`) and groups on other servers that local
people follow (their carried posts share Post's field names): callers pass the live posts of
one group as a queryset. Callers ask `visibility` first; this module only shapes what is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from fedgroups.errors import NotFound
from fedgroups.models import Actor, Group, MembershipRole, MembershipState

THREADS_PER_PAGE = 20
MAX_THREAD_POSTS = 500
SCAN_BATCH = 200
MAX_SKIPPED_THREADS = 500  # threads left out by name in one read (bound parameters)
Scope = QuerySet[Any]  # the live (not deleted) posts of one group


# What a listing shows of a post and of its author: rows of these columns, not model objects
# (building tortoise objects with every column cost more than the rest of the page).
LISTED_COLUMNS = ("id", "ap_id", "summary", "content", "published_at")
AUTHOR_COLUMNS = ("is_local", "username", "domain", "display_name", "url", "ap_id")


@dataclass(frozen=True, slots=True)
class Byline:
    is_local: bool
    username: str
    domain: str
    display_name: str
    url: str
    ap_id: str


@dataclass(frozen=True, slots=True)
class Listed:
    """A post as a listing shows it: the same names the templates use for a `Post`."""

    id: int
    ap_id: str
    summary: str
    content: str
    published_at: datetime
    author: Byline


async def listed(query: Scope) -> list[Listed]:
    """The posts `query` selects, with their authors, in one query of the shown columns."""
    authored = tuple(f"author__{column}" for column in AUTHOR_COLUMNS)
    rows = await query.values_list(*LISTED_COLUMNS, *authored)
    return [
        Listed(id_, ap_id, summary, content, published_at, Byline(*author))
        for id_, ap_id, summary, content, published_at, *author in rows
    ]


@dataclass(frozen=True)
class ThreadSummary:
    root: Any
    replies: int
    last_activity_at: datetime


@dataclass
class Node:
    """A post in a thread with the replies to it, in the order they were written."""

    post: Any
    children: list[Node] = field(default_factory=list)


@dataclass(frozen=True)
class ThreadPage:
    threads: list[ThreadSummary]
    page: int
    has_next: bool


async def _active_thread_keys(scope: Scope, wanted: int) -> list[tuple[str, datetime]]:
    """The first `wanted` threads by last activity, with that moment.

    Walks the group's posts newest first (the (group, published_at) index) and keeps each
    thread the first time one of its posts appears: that post is the thread's latest. Each
    read after the first leaves out the threads already seen, so a busy thread (a daily
    check-in with thousands of fresh replies) costs the database a filter, not thousands of
    rows sent here; it resumes after the last post read (keyset), never by OFFSET.
    """
    seen: dict[str, datetime] = {}
    after: tuple[datetime, int] | None = None
    batch = wanted + 4  # a quiet group's page is one short read
    while len(seen) < wanted:
        query = scope
        if seen:
            known = list(seen)[:MAX_SKIPPED_THREADS]  # only a shortcut: `seen` decides
            query = query.exclude(thread_root__in=known).exclude(ap_id__in=known)
        if after is not None:
            published, last_id = after
            query = query.filter(
                Q(published_at__lt=published) | Q(published_at=published, id__lt=last_id)
            )
        rows = (
            await query.order_by("-published_at", "-id")
            .limit(batch)
            .values_list("id", "ap_id", "thread_root", "published_at")
        )
        for _id, ap_id, root, published_at in rows:
            seen.setdefault(str(root or ap_id), published_at)
        if len(rows) < batch:
            break
        last = rows[-1]
        after = (last[3], int(last[0]))
        batch = max(batch, min(batch * 2, SCAN_BATCH))
    return list(seen.items())[:wanted]


async def thread_page(scope: Scope, page: int) -> ThreadPage:
    """One page of the group's threads, the most recently active first."""
    start = (page - 1) * THREADS_PER_PAGE
    keys = await _active_thread_keys(scope, start + THREADS_PER_PAGE + 1)
    chosen = keys[start : start + THREADS_PER_PAGE]
    roots = {
        post.ap_id: post for post in await listed(scope.filter(ap_id__in=[k for k, _ in chosen]))
    }
    counts = dict(
        await scope.filter(thread_root__in=list(roots))
        .annotate(replies=Count("id"))
        .group_by("thread_root")
        .values_list("thread_root", "replies")
    )
    threads = [
        ThreadSummary(roots[key], int(counts.get(key, 0)), last)
        for key, last in chosen
        if key in roots
    ]
    return ThreadPage(threads, page, has_next=len(keys) > start + THREADS_PER_PAGE)


async def pinned_posts(scope: Scope) -> list[Listed]:
    return await listed(scope.filter(is_pinned=True).order_by("-published_at"))


async def moderators(group: Group) -> list[Actor]:
    return list(
        await Actor.filter(
            memberships__group=group,
            memberships__state=MembershipState.APPROVED,
            memberships__role__in=[MembershipRole.MODERATOR, MembershipRole.OWNER],
        )
    )


async def find_post(scope: Scope, post_id: int) -> Any:
    post = await scope.filter(id=post_id).select_related("author").first()
    if post is None:
        raise NotFound("no such post")
    return post


async def thread_tree(scope: Scope, post: Any) -> Node:
    """The whole thread `post` belongs to, as a tree from its root."""
    root_id = post.thread_root or post.ap_id
    posts = list(
        await scope.filter(ap_id=root_id).select_related("author")
        + await scope.filter(thread_root=root_id)
        .order_by("published_at", "id")
        .limit(MAX_THREAD_POSTS)
        .select_related("author")
    )
    if not posts or posts[0].ap_id != root_id:
        raise NotFound("no such thread")
    nodes = {item.ap_id: Node(item) for item in posts}
    root = nodes[root_id]
    for item in posts[1:]:
        # A reply to a missing post (or to itself) hangs off the root.
        parent = root if item.in_reply_to == item.ap_id else nodes.get(item.in_reply_to, root)
        parent.children.append(nodes[item.ap_id])
    return root
