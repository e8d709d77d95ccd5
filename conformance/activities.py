"""Activities the peer's actors send, shaped like Mastodon's, and matchers for what comes back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from conformance.peer import AS_CONTEXT, PUBLIC, Delivery, Peer, PeerActor


def follow(peer: Peer, actor: PeerActor, group_id: str) -> dict[str, Any]:
    # Mastodon's Follow has no `to` [M app/serializers/activitypub/follow_serializer.rb].
    return {"@context": AS_CONTEXT, "id": peer.new_id(actor, "follows"), "type": "Follow",
            "actor": actor.id, "object": group_id}  # fmt: skip


def undo(peer: Peer, actor: PeerActor, activity: dict[str, Any]) -> dict[str, Any]:
    inner = {key: value for key, value in activity.items() if key != "@context"}
    return {"@context": AS_CONTEXT, "id": f"{activity['id']}/undo", "type": "Undo",
            "actor": actor.id, "object": inner}  # fmt: skip


def note_mentioning(
    peer: Peer, actor: PeerActor, group: dict[str, Any], handle: str, text: str
) -> dict[str, Any]:
    """A public Mastodon post mentioning the group [M app/lib/activitypub/tag_manager.rb]."""
    group_id = str(group["id"])
    followers = group.get("followers")
    cc = [f"{actor.id}/followers", group_id, *([followers] if isinstance(followers, str) else [])]
    mention = (
        f'<span class="h-card"><a href="{group_id}" class="u-url mention">'
        f"@<span>{handle.split('@')[0]}</span></a></span>"
    )
    return {
        "id": peer.new_id(actor, "statuses"),
        "type": "Note",
        "attributedTo": actor.id,
        "content": f"<p>{mention} {text}</p>",
        "published": _now(),
        "to": [PUBLIC],
        "cc": cc,
        "tag": [{"type": "Mention", "href": group_id, "name": f"@{handle}"}],
    }


def create(actor: PeerActor, note: dict[str, Any]) -> dict[str, Any]:
    return {"@context": AS_CONTEXT, "id": f"{note['id']}/activity", "type": "Create",
            "actor": actor.id, "published": note["published"], "to": note["to"],
            "cc": note["cc"], "object": note}  # fmt: skip


def delete_note(actor: PeerActor, note: dict[str, Any]) -> dict[str, Any]:
    # Mastodon deletes with a Tombstone [M app/serializers/activitypub/delete_serializer.rb].
    return {"@context": AS_CONTEXT, "id": f"{note['id']}#delete", "type": "Delete",
            "actor": actor.id, "to": [PUBLIC],
            "object": {"id": note["id"], "type": "Tombstone", "atomUri": note["id"]}}  # fmt: skip


def delete_actor(actor: PeerActor) -> dict[str, Any]:
    # [M app/serializers/activitypub/delete_actor_serializer.rb]
    return {"@context": AS_CONTEXT, "id": f"{actor.id}#delete", "type": "Delete",
            "actor": actor.id, "to": [PUBLIC], "object": actor.id}  # fmt: skip


def ref(value: Any) -> Any:
    """The id of an object given by id or embedded."""
    return value.get("id") if isinstance(value, dict) else value


def answers_follow(activity: dict[str, Any]) -> Any:
    """Predicate: an Accept or Reject of the given Follow (by id, or embedded by actor)."""

    def matches(delivery: Delivery) -> bool:
        answer = delivery.activity
        if answer.get("type") not in ("Accept", "Reject"):
            return False
        inner = answer.get("object")
        if ref(inner) == activity["id"]:
            return True
        return isinstance(inner, dict) and inner.get("actor") == activity["actor"]

    return matches


def announces(note_id: str, create_id: str | None = None) -> Any:
    """Predicate: an Announce of the note, by id, embedded, or as its Create (FEP-1b12)."""

    def matches(delivery: Delivery) -> bool:
        activity = delivery.activity
        if activity.get("type") != "Announce":
            return False
        inner = activity.get("object")
        if ref(inner) in (note_id, create_id):
            return True
        return isinstance(inner, dict) and ref(inner.get("object")) == note_id

    return matches


def withdraws(announce: dict[str, Any], note_id: str) -> Any:
    """Predicate: Undo of that Announce (Mastodon) or Announce of the Delete (FEP-1b12)."""

    def matches(delivery: Delivery) -> bool:
        activity = delivery.activity
        inner = activity.get("object")
        if activity.get("type") == "Undo":
            return ref(inner) == announce.get("id")
        if activity.get("type") == "Announce" and isinstance(inner, dict):
            return inner.get("type") == "Delete" and ref(inner.get("object")) == note_id
        return False

    return matches


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
