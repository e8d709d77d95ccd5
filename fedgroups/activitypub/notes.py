"""Objects our groups author: the Notes a group publishes under its own name. Pure JSON builders.

A members-only group republishes its members' posts as its own Notes addressed to its
followers (federation-interop.md 7.2); a public group's Notes are public.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fedgroups.activitypub.render import iso
from fedgroups.activitypub.vocabulary import NOTE_CONTEXT, PUBLIC


@dataclass(frozen=True)
class GroupNote:
    """What a group's Note says; `content_html` has already passed the sanitiser."""

    ap_id: str
    group_id: str
    followers: str
    is_private: bool
    content_html: str
    summary: str
    in_reply_to: str
    published: datetime
    updated: datetime | None = None


def replies_url(note_id: str) -> str:
    return f"{note_id}/replies"


def render_group_note(note: GroupNote) -> dict[str, Any]:
    """The Note as Mastodon, Lemmy and Fedify read it (federation-interop.md 6).

    Members-only: `to` the followers only, no Public anywhere, so Mastodon shows a
    followers-only post that cannot be boosted. A summary is a content warning.
    """
    document: dict[str, Any] = {
        "@context": NOTE_CONTEXT,
        "id": note.ap_id,
        "type": "Note",
        "attributedTo": note.group_id,
        "audience": note.group_id,  # FEP-1b12: the group the Note belongs to
        "to": [note.followers] if note.is_private else [PUBLIC],
        "cc": [] if note.is_private else [note.followers],
        "content": note.content_html,
        "inReplyTo": note.in_reply_to or None,
        "published": iso(note.published),
        "sensitive": bool(note.summary),
        "replies": replies_url(note.ap_id),
    }
    if note.summary:
        document["summary"] = note.summary
    if note.updated is not None:
        document["updated"] = iso(note.updated)
    return document


def render_direct_note(
    ap_id: str,
    group_id: str,
    recipient_id: str,
    recipient_handle: str,
    content_html: str,
    published: datetime,
) -> dict[str, Any]:
    """A Note from the group to one person only, mentioning them: Mastodon shows it as a
    private mention in their notifications (its "direct" visibility)."""
    return {
        "@context": NOTE_CONTEXT,
        "id": ap_id,
        "type": "Note",
        "attributedTo": group_id,
        "to": [recipient_id],
        "cc": [],
        "content": content_html,
        "published": iso(published),
        "tag": [{"type": "Mention", "href": recipient_id, "name": recipient_handle}],
    }
