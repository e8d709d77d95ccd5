"""Reading a group: its threads newest-active first, one thread as a tree, pinned posts.

Callers ask `visibility` first; these functions only shape what may be shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tortoise.functions import Count, Max

from fedgroups.errors import NotFound
from fedgroups.models import Actor, Group, MembershipRole, MembershipState, Post

THREADS_PER_PAGE = 20
MAX_THREAD_POSTS = 500


@dataclass(frozen=True)
class ThreadSummary:
    root: Post
    replies: int
    last_activity_at: datetime


@dataclass
class Node:
    """A post in a thread with the replies to it, in the order they were written."""

    post: Post
    children: list[Node] = field(default_factory=list)


@dataclass(frozen=True)
class ThreadPage:
    threads: list[ThreadSummary]
    page: int
    has_next: bool


async def thread_page(group: Group, page: int) -> ThreadPage:
    """One page of the group's threads, the most recently active first."""
    roots = await Post.filter(group=group, thread_root="", deleted_at=None).select_related("author")
    activity = (
        await Post.filter(group=group, deleted_at=None)
        .exclude(thread_root="")
        .annotate(last=Max("published_at"), replies=Count("id"))
        .group_by("thread_root")
        .values("thread_root", "last", "replies")
    )
    by_root = {row["thread_root"]: row for row in activity}
    summaries = []
    for root in roots:
        row = by_root.get(root.ap_id)
        last = max(root.published_at, row["last"]) if row and row["last"] else root.published_at
        summaries.append(ThreadSummary(root, row["replies"] if row else 0, last))
    summaries.sort(key=lambda summary: (summary.last_activity_at, summary.root.id), reverse=True)
    start = (page - 1) * THREADS_PER_PAGE
    chosen = summaries[start : start + THREADS_PER_PAGE]
    return ThreadPage(chosen, page, has_next=len(summaries) > start + THREADS_PER_PAGE)


async def pinned_posts(group: Group) -> list[Post]:
    return (
        await Post.filter(group=group, is_pinned=True, deleted_at=None)
        .order_by("-published_at")
        .select_related("author")
    )


async def moderators(group: Group) -> list[Actor]:
    return list(
        await Actor.filter(
            memberships__group=group,
            memberships__state=MembershipState.APPROVED,
            memberships__role__in=[MembershipRole.MODERATOR, MembershipRole.OWNER],
        )
    )


async def find_post(group: Group, post_id: int) -> Post:
    post = await Post.get_or_none(id=post_id, group=group, deleted_at=None).select_related("author")
    if post is None:
        raise NotFound("no such post")
    return post


async def thread_tree(group: Group, post: Post) -> Node:
    """The whole thread `post` belongs to, as a tree from its root."""
    root_id = post.thread_root or post.ap_id
    posts = await Post.filter(group=group, deleted_at=None, ap_id=root_id).select_related(
        "author"
    ) + await Post.filter(group=group, deleted_at=None, thread_root=root_id).order_by(
        "published_at", "id"
    ).limit(MAX_THREAD_POSTS).select_related("author")
    if not posts or posts[0].ap_id != root_id:
        raise NotFound("no such thread")
    nodes = {item.ap_id: Node(item) for item in posts}
    root = nodes[root_id]
    for item in posts[1:]:
        # A reply to a missing post (or to itself) hangs off the root.
        parent = root if item.in_reply_to == item.ap_id else nodes.get(item.in_reply_to, root)
        parent.children.append(nodes[item.ap_id])
    return root
