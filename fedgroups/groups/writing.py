"""Local members writing in groups hosted here: a new thread, or a reply in one.

The post is stored and announced by the group to its members on other servers exactly like
a post that arrived over federation (`posting.announce`), in one transaction with the
deliveries (T78). The author's Create is kept so FEP-1b12 peers can be given it whole.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

from fedgroups.activitypub.person_activities import NoteFields, render_create, render_delete
from fedgroups.errors import NotFound, ValidationError
from fedgroups.groups import visibility
from fedgroups.groups.content import plain_text, render_markdown
from fedgroups.groups.intake import must_confirm_rules
from fedgroups.groups.membership import is_member
from fedgroups.groups.posting import (
    Draft,
    Taken,
    delete_post,
    is_locked,
    take_post,
    thread_root_of,
)
from fedgroups.groups.visibility import Viewer
from fedgroups.models import Actor, Group, Post

MAX_BODY = 10_000
MAX_WARNING = 200
_MENTION = re.compile(r"(?<![\w@/])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)\b", re.IGNORECASE)


async def _mentioned_locals(markdown: str, group: Group) -> list[Actor]:
    """Local people named with @name in the text (at most 20), for tags and notifications."""
    names = {name.lower() for name in _MENTION.findall(markdown)[:20]}
    names.discard(group.actor.username.lower())
    if not names:
        return []
    keys = [f"{name}@{group.actor.domain}" for name in names]
    return await Actor.filter(handle_key__in=keys, is_local=True, gone_at=None)


def check_post_fields(body: str, warning: str) -> None:
    if not body.strip():
        raise ValidationError("Write something to post.", field="body")
    if len(body) > MAX_BODY:
        raise ValidationError(f"Keep posts under {MAX_BODY} characters.", field="body")
    if len(warning) > MAX_WARNING:
        raise ValidationError(f"Use at most {MAX_WARNING} characters.", field="summary")


async def write_post(
    group: Group, author: Actor, body: str, *, summary: str = "", in_reply_to: str = ""
) -> Taken:
    """`author` (a local member) posts `body` (Markdown) in `group`, optionally behind a warning.

    The group's rules apply as to anyone's post: it may be published, wait for review, or be
    refused by a keyword rule. Replies in a locked thread are refused, and so is a member's
    post before they confirm the group's rules (`intake.confirm_rules`).
    """
    check_post_fields(body, summary)
    if not await is_member(group, author):
        raise ValidationError("Join the group to post in it.", field="form")
    if await must_confirm_rules(group, author):
        raise ValidationError("Please confirm that you have read the group's rules.", field="rules")
    root = None
    if in_reply_to:
        root = await thread_root_of(group, in_reply_to)
        if root is None:
            raise NotFound("no such post")
        if await is_locked(group, root):
            raise ValidationError("This thread is locked: replies are closed.", field="form")
    content = render_markdown(body)
    warning = plain_text(summary.strip(), MAX_WARNING)
    mentioned = await _mentioned_locals(body, group)
    now = datetime.now(UTC)
    note_id = f"{author.ap_id}/posts/{secrets.token_urlsafe(12)}"
    is_public = not group.is_private
    note = NoteFields(
        ap_id=note_id, author_id=author.ap_id, author_followers=f"{author.ap_id}/followers",
        group_id=group.actor.ap_id, group_handle=group.actor.handle, content_html=content,
        source=body, summary=warning, in_reply_to=in_reply_to, is_public=is_public,
        published=now,
    )  # fmt: skip
    draft = Draft(
        ap_id=note_id, in_reply_to=in_reply_to, is_public=is_public, published_at=now,
        fields={"object_type": "Note", "name": "", "summary": warning, "content": content,
                "url": note_id},
        create=render_create(note), recipients=frozenset(actor.ap_id for actor in mentioned),
    )  # fmt: skip
    return await take_post(group, author, draft)


def note_of(post: Post, author: Actor, group: Group) -> NoteFields:
    """The Note a local member's post in a group here is, as peers fetch it at its id."""
    return NoteFields(
        ap_id=post.ap_id, author_id=author.ap_id, author_followers=f"{author.ap_id}/followers",
        group_id=group.actor.ap_id, group_handle=group.actor.handle, content_html=post.content,
        source="", summary=post.summary, in_reply_to=post.in_reply_to, is_public=post.is_public,
        published=post.published_at, updated=post.updated_at,
    )  # fmt: skip


async def readable_local_post(person: Actor, key: str, viewer: Viewer) -> Post:
    """The post at `/u/NAME/posts/KEY` written in a group here, if `viewer` may read it."""
    post = await Post.get_or_none(
        ap_id=f"{person.ap_id}/posts/{key}", author=person, publisher=person, deleted_at=None
    ).select_related("group__actor")
    if post is None or not await visibility.can_read_content(post.group, viewer):
        raise NotFound("no such post")
    return post


async def remove_own_post(author: Actor, post: Post) -> None:
    """A local member deletes their post in a group here: gone here, and peers are told.

    The group withdraws its boosts and relays the author's Delete, as for a member elsewhere.
    """
    if post.author_id != author.id:  # type: ignore[attr-defined]
        raise NotFound("no such post")
    group = await Group.get(id=post.group_id).select_related("actor")  # type: ignore[attr-defined]
    delete = render_delete(note_of(post, author, group))
    await delete_post(author, post.ap_id, delete)
