"""Activities our actors send: Accept, Reject and Announce. Pure JSON builders."""

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
    group_id: str, activity_id: str, object_id: str, *, followers: str, is_public: bool
) -> dict[str, Any]:
    """The group boosts a member's post to its followers (Mastodon shows it as a boost)."""
    return {
        "@context": ACTIVITY_CONTEXT,
        "id": activity_id,
        "type": "Announce",
        "actor": group_id,
        "object": object_id,
        "to": [PUBLIC] if is_public else [followers],
        "cc": [followers] if is_public else [],
    }
