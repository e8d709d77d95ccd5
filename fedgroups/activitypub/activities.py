"""Activities our actors send: Accept, Reject, Announce, Undo and Block. Pure JSON builders."""

from __future__ import annotations

from typing import Any, Literal

from fedgroups.activitypub.vocabulary import ACTIVITY_CONTEXT, PUBLIC


def render_follow_answer(
    kind: Literal["Accept", "Reject"], actor_id: str, activity_id: str, follow: dict[str, Any]
) -> dict[str, Any]:
    """Accept or Reject with the Follow embedded: Mastodon matches it by the Follow's id."""
    return {
        "@context": ACTIVITY_CONTEXT,
        "id": activity_id,
        "type": kind,
        "actor": actor_id,
        "object": _bare_follow(follow),
        "to": [follow["actor"]],
    }


def _bare_follow(follow: dict[str, Any]) -> dict[str, Any]:
    return {key: follow[key] for key in ("id", "type", "actor", "object") if key in follow}


def render_announce(
    group_id: str,
    activity_id: str,
    announced: str | dict[str, Any],
    *,
    followers: str,
    is_public: bool,
    author_id: str = "",
) -> dict[str, Any]:
    """The group boosts a member's post (or, FEP-1b12, an activity embedded verbatim).

    Addressed like Mastodon's own boosts, the author in `cc` so their server learns of it
    (federation-interop.md 4.3).
    """
    cc = [followers] if is_public else []
    if author_id:
        cc.append(author_id)
    return {
        "@context": ACTIVITY_CONTEXT,
        "id": activity_id,
        "type": "Announce",
        "actor": group_id,
        "object": announced,
        "to": [PUBLIC] if is_public else [followers],
        "cc": cc,
    }


def render_undo(actor_id: str, activity_id: str, undone: dict[str, Any]) -> dict[str, Any]:
    """Undo of one of our own activities, embedded (Mastodon matches an Undo{Announce} by it)."""
    embedded = {key: value for key, value in undone.items() if key != "@context"}
    undo: dict[str, Any] = {
        "@context": ACTIVITY_CONTEXT,
        "id": activity_id,
        "type": "Undo",
        "actor": actor_id,
        "object": embedded,
    }
    # Addressed as the undone activity was; a Follow, like Mastodon's, carries no addressing.
    undo.update({key: undone[key] for key in ("to", "cc") if key in undone})
    return undo


def render_block(group_id: str, activity_id: str, member_id: str) -> dict[str, Any]:
    """A ban: Mastodon then drops the follow both ways and rejects new requests (interop 4.6)."""
    return {
        "@context": ACTIVITY_CONTEXT,
        "id": activity_id,
        "type": "Block",
        "actor": group_id,
        "object": member_id,
        "to": [member_id],
    }


def render_delete(actor_id: str, activity_id: str, object_id: str) -> dict[str, Any]:
    """Delete of an object by our actor: a group removing a post from its own copy."""
    return {
        "@context": ACTIVITY_CONTEXT,
        "id": activity_id,
        "type": "Delete",
        "actor": actor_id,
        "object": object_id,
        "to": [PUBLIC],
    }


def render_create(actor_id: str, activity_id: str, note: dict[str, Any]) -> dict[str, Any]:
    """Create of one of our actors' objects, addressed exactly as the object is."""
    return _wrapping("Create", actor_id, activity_id, note)


def render_update(actor_id: str, activity_id: str, note: dict[str, Any]) -> dict[str, Any]:
    """Update of one of our actors' objects, the new version embedded whole."""
    return _wrapping("Update", actor_id, activity_id, note)


def _wrapping(kind: str, actor_id: str, activity_id: str, note: dict[str, Any]) -> dict[str, Any]:
    embedded = {key: value for key, value in note.items() if key != "@context"}
    return {
        "@context": note.get("@context", ACTIVITY_CONTEXT),
        "id": activity_id,
        "type": kind,
        "actor": actor_id,
        "object": embedded,
        "to": note.get("to", []),
        "cc": note.get("cc", []),
    }
