"""Members-only groups speak in their own name: a member's post becomes the group's Note.

Mastodon cannot boost a followers-only or direct post, and a member's followers-only post
would also reach their own followers. So members of a members-only group post with
"mentioned people only" visibility, and the group republishes the post as its own Note
addressed to its followers alone, crediting the member (federation-interop.md 7.2). Edits and
deletions by the member become the group's Update and Delete of that Note.
"""

from __future__ import annotations

import secrets
from html import escape
from typing import Any

from fedgroups.activitypub.activities import render_create, render_delete, render_update
from fedgroups.activitypub.notes import GroupNote, render_group_note
from fedgroups.groups.membership import approved_members
from fedgroups.groups.outbox import new_activity_id, publish
from fedgroups.models import Actor, Group, Post
from fedgroups.models.post import republished_copy


def new_note_id(group: Group) -> str:
    return f"{group.actor.ap_id}/posts/{secrets.token_urlsafe(12)}"


def group_note(group: Group, post: Post) -> GroupNote:
    """The Note a group publishes for one of its posts."""
    return GroupNote(
        ap_id=post.ap_id,
        group_id=group.actor.ap_id,
        followers=group.actor.followers_url,
        is_private=group.is_private or not post.is_public,
        content_html=post.content,
        summary=post.summary,
        in_reply_to=post.in_reply_to,
        published=post.published_at,
        updated=post.updated_at,
    )


def credited(author: Actor, content_html: str) -> str:
    """The member's words under their handle: a link, not a Mention, so nobody is pinged."""
    profile = escape(author.url or author.ap_id, quote=True)
    handle = escape(f"@{author.username}@{author.domain}")
    return f'<p><a href="{profile}" class="u-url">{handle}</a> wrote:</p>{content_html}'


async def group_reply_target(group: Group, in_reply_to: str) -> str:
    """A reply to a member's original post hangs off the group's Note of it."""
    if not in_reply_to:
        return ""
    republished = await republished_copy(group.pk, in_reply_to)
    return republished.ap_id if republished is not None else in_reply_to


async def publish_note(group: Group, post: Post) -> None:
    """Send the group's new Note to every member, the author included."""
    note = render_group_note(group_note(group, post))
    create = render_create(group.actor.ap_id, new_activity_id(group.actor), note)
    post.create_activity = create
    await post.save(update_fields=["create_activity"])
    await _to_members(group, post, create)


async def publish_note_update(group: Group, post: Post) -> None:
    note = render_group_note(group_note(group, post))
    update = render_update(group.actor.ap_id, new_activity_id(group.actor), note)
    await _to_members(group, post, update)


async def publish_note_deletion(group: Group, post: Post) -> None:
    delete = render_delete(group.actor.ap_id, new_activity_id(group.actor), post.ap_id)
    delete["to"] = [group.actor.followers_url]  # never Public, even in a deletion
    await _to_members(group, post, delete)


async def _to_members(group: Group, post: Post, activity: dict[str, Any]) -> None:
    await publish(
        group.actor,
        activity,
        await approved_members(group),
        group=group,
        object_ap_id=post.ap_id,
        is_public=False,
    )
