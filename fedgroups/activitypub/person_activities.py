"""What a local person sends to groups elsewhere: Follow, and their posts' Create, Update and
Delete (Undo is `activities.render_undo`). Pure JSON builders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fedgroups.activitypub.render import iso
from fedgroups.activitypub.vocabulary import ACTIVITY_CONTEXT, NOTE_CONTEXT, PUBLIC


def render_follow(activity_id: str, actor_id: str, object_id: str) -> dict[str, Any]:
    """A Follow as Mastodon sends it: no addressing, to the followed actor's inbox."""
    return {
        "@context": ACTIVITY_CONTEXT,
        "id": activity_id,
        "type": "Follow",
        "actor": actor_id,
        "object": object_id,
    }


@dataclass(frozen=True)
class NoteFields:
    """What a person's note says and whom it addresses (the domain decides, this renders)."""

    ap_id: str
    author_id: str
    author_followers: str
    group_id: str
    group_handle: str  # name@domain, for the Mention tag
    content_html: str
    source: str  # the Markdown as written
    summary: str  # content warning, "" for none
    in_reply_to: str
    is_public: bool
    published: datetime
    updated: datetime | None = None


def note_audience(note: NoteFields) -> tuple[list[str], list[str]]:
    """(to, cc) as Mastodon addresses a post mentioning a group.

    Public: to Public, cc the author's followers and the group. Members-only groups get
    Mastodon's "mentioned people only" shape, to the group alone, so nothing leaks beyond it.
    """
    if note.is_public:
        return [PUBLIC], [note.author_followers, note.group_id]
    return [note.group_id], []


def render_note(note: NoteFields) -> dict[str, Any]:
    to, cc = note_audience(note)
    document: dict[str, Any] = {
        "@context": NOTE_CONTEXT,
        "id": note.ap_id,
        "type": "Note",
        "attributedTo": note.author_id,
        "content": note.content_html,
        "source": {"content": note.source, "mediaType": "text/markdown"},
        "summary": note.summary or None,
        "sensitive": bool(note.summary),
        "inReplyTo": note.in_reply_to or None,
        "published": iso(note.published),
        "url": note.ap_id,
        "to": to,
        "cc": cc,
        "tag": [{"type": "Mention", "href": note.group_id, "name": f"@{note.group_handle}"}],
    }
    if note.updated is not None:
        document["updated"] = iso(note.updated)  # Mastodon treats it as an edit only with this
    return document


def _wrap(kind: str, activity_id: str, note: NoteFields, obj: Any) -> dict[str, Any]:
    to, cc = note_audience(note)
    return {
        "@context": NOTE_CONTEXT,
        "id": activity_id,
        "type": kind,
        "actor": note.author_id,
        "to": to,
        "cc": cc,
        "object": obj,
    }


def render_create(note: NoteFields) -> dict[str, Any]:
    """Create of a new note; the activity id is the note's id + /activity, as on Mastodon."""
    document = render_note(note)
    activity = _wrap("Create", f"{note.ap_id}/activity", note, _bare(document))
    activity["published"] = document["published"]
    return activity


def render_update(activity_id: str, note: NoteFields) -> dict[str, Any]:
    """Update carrying the whole edited note (with its `updated` time); one id per edit."""
    return _wrap("Update", activity_id, note, _bare(render_note(note)))


def render_delete(note: NoteFields) -> dict[str, Any]:
    """Delete with a Tombstone, addressed like the note was."""
    tombstone = {"id": note.ap_id, "type": "Tombstone"}
    return _wrap("Delete", f"{note.ap_id}#delete", note, tombstone)


def _bare(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "@context"}
