"""A local person's own posts to groups on other servers: written in Markdown, sent as Notes,
edited and deleted. The group decides whether to share a post; its Announce comes back later.

Services take an `Account` or its Person `Actor`, and the group's `Actor`; posts are named by
their id (`https://HOST/u/NAME/posts/KEY`) or given as the row.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from tortoise.transactions import in_transaction

from fedgroups.activitypub.person_activities import (
    NoteFields,
    render_create,
    render_delete,
    render_note,
    render_update,
)
from fedgroups.errors import NotFound, ValidationError
from fedgroups.groups import visibility
from fedgroups.groups.content import MAX_MARKDOWN_CHARS, plain_text, render_markdown
from fedgroups.groups.following import local_person
from fedgroups.groups.outbox import publish
from fedgroups.groups.remote_posts import thread_root_in
from fedgroups.groups.visibility import Viewer
from fedgroups.models import Account, Actor, ActorKind, GroupSubscription, RemoteGroupPost
from fedgroups.models import GroupSubscriptionState as State

MAX_SUMMARY_CHARS = 2_000
POSTS_PATH = "/posts/"


class PostVisibility(StrEnum):
    """Who a post is addressed to (Mastodon's visibilities that make sense for a group)."""

    PUBLIC = "public"  # to Public, cc the author's followers and the group
    GROUP = "group"  # to the group alone ("mentioned people only"): nothing leaks beyond it


async def publish_post(
    author: Account | Actor,
    group: Actor,
    content: str,
    *,
    summary: str = "",
    in_reply_to: str = "",
    visibility: PostVisibility | None = None,
) -> RemoteGroupPost:
    """Write a post to a remote group the author is an accepted member of, and send it.

    `content` is Markdown (plain text is Markdown too); `summary` is a content warning;
    `visibility` defaults to PUBLIC for open groups and GROUP for members-only ones.
    """
    person = await local_person(author)
    await _require_member(person, group)
    source = _checked_text(content)
    if visibility is None:
        visibility = (
            PostVisibility.GROUP if group.manually_approves_followers else PostVisibility.PUBLIC
        )
    parent = _checked_reply_target(in_reply_to)
    ap_id = f"{person.ap_id}{POSTS_PATH}{secrets.token_urlsafe(9)}"
    post = RemoteGroupPost(
        ap_id=ap_id,
        group_actor=group,
        author=person,
        in_reply_to=parent,
        thread_root=await thread_root_in(group, parent),
        summary=plain_text(summary.strip(), MAX_SUMMARY_CHARS),
        content=render_markdown(source),
        source=source,
        url=ap_id,
        is_public=visibility == PostVisibility.PUBLIC,
        published_at=datetime.now(UTC),
    )
    async with in_transaction():
        await post.save()
        activity = render_create(note_fields(post, person, group))
        await publish(person, activity, [group], object_ap_id=ap_id, is_public=post.is_public)
    return post


async def edit_post(
    author: Account | Actor,
    post: RemoteGroupPost | str,
    content: str,
    *,
    summary: str | None = None,
) -> RemoteGroupPost:
    """Change a post's text (and content warning, unless None); the group gets an Update."""
    person = await local_person(author)
    row = await own_post(person, post)
    group = await row.group_actor
    await _require_not_banned(person, group)
    row.source = _checked_text(content)
    row.content = render_markdown(row.source)
    if summary is not None:
        row.summary = plain_text(summary.strip(), MAX_SUMMARY_CHARS)
    row.updated_at = datetime.now(UTC)
    edit_id = f"{row.ap_id}#updates/{secrets.token_urlsafe(6)}"
    async with in_transaction():
        await row.save()
        activity = render_update(edit_id, note_fields(row, person, group))
        await publish(person, activity, [group], object_ap_id=row.ap_id, is_public=row.is_public)
    return row


async def delete_post(author: Account | Actor, post: RemoteGroupPost | str) -> RemoteGroupPost:
    """Delete a post: its words are erased here, the group gets a Delete with a Tombstone.

    Always allowed, even after a ban: deleting only ever reduces exposure.
    """
    person = await local_person(author)
    row = await own_post(person, post)
    group = await row.group_actor
    activity = render_delete(note_fields(row, person, group))
    async with in_transaction():
        row.deleted_at = datetime.now(UTC)
        row.content = row.source = row.summary = ""
        await row.save()
        await publish(person, activity, [group], object_ap_id=row.ap_id, is_public=row.is_public)
    return row


async def own_post(person: Actor, post: RemoteGroupPost | str) -> RemoteGroupPost:
    """The person's own, not deleted post, by row or id; NotFound otherwise."""
    ap_id = post.ap_id if isinstance(post, RemoteGroupPost) else post.strip()
    row = await RemoteGroupPost.get_or_none(ap_id=ap_id, author=person, deleted_at=None)
    if row is None:
        raise NotFound(f"@{person.handle} has no post {ap_id}")
    return row


async def readable_post(person: Actor, key: str, viewer: Viewer) -> RemoteGroupPost:
    """The post at `/u/NAME/posts/KEY`, if `viewer` may read it; the same NotFound otherwise."""
    ap_id = f"{person.ap_id}{POSTS_PATH}{key}"
    post = await RemoteGroupPost.get_or_none(ap_id=ap_id, author=person).select_related(
        "group_actor"
    )
    if post is None or not await visibility.can_read_person_post(post, viewer):
        raise NotFound("no such post")
    return post


def note_document(post: RemoteGroupPost, person: Actor) -> dict[str, Any]:
    """The Note served at the post's id (its group loaded)."""
    return render_note(note_fields(post, person))


def note_fields(post: RemoteGroupPost, person: Actor, group: Actor | None = None) -> NoteFields:
    """The post as the Note its author publishes (group: the loaded `post.group_actor`)."""
    group = group if group is not None else post.group_actor
    return NoteFields(
        ap_id=post.ap_id,
        author_id=person.ap_id,
        author_followers=person.followers_url or f"{person.ap_id}/followers",
        group_id=group.ap_id,
        group_handle=group.handle,
        content_html=post.content,
        source=post.source,
        summary=post.summary,
        in_reply_to=post.in_reply_to,
        is_public=post.is_public,
        published=post.published_at,
        updated=post.updated_at,
    )


def _checked_text(content: str) -> str:
    text = content.strip()
    if not text:
        raise ValidationError("a post needs some text")
    if len(text) > MAX_MARKDOWN_CHARS:
        raise ValidationError(f"a post may have at most {MAX_MARKDOWN_CHARS} characters")
    return text


def _checked_reply_target(in_reply_to: str) -> str:
    target = in_reply_to.strip()
    if target and (not target.startswith(("https://", "http://")) or len(target) > 512):
        raise ValidationError(f"{in_reply_to!r} is not the URL of a post")
    return target


async def _require_member(person: Actor, group: Actor) -> None:
    """Only accepted members post to a group (its server would not share anything else)."""
    if group.is_local or group.kind != ActorKind.GROUP:
        raise ValidationError(f"@{group.handle} is not a group on another server")
    subscription = await GroupSubscription.get_or_none(actor=person, group_actor=group)
    state = subscription.state if subscription is not None else None
    if state == State.ACCEPTED:
        return
    if state == State.BANNED:
        raise ValidationError(f"@{group.handle} has banned @{person.handle}")
    if state == State.PENDING:
        raise ValidationError(f"@{group.handle} has not accepted @{person.handle} yet")
    raise ValidationError(f"@{person.handle} is not a member of @{group.handle}: follow it first")


async def _require_not_banned(person: Actor, group: Actor) -> None:
    if await GroupSubscription.exists(actor=person, group_actor=group, state=State.BANNED):
        raise ValidationError(f"@{group.handle} has banned @{person.handle}")
