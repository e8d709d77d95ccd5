"""Moderation on the wire: Add/Remove of moderators, Lock, Flag, and moderators' activities.

Builders for what our groups and instance send, and parsers for what other servers' moderators
and reporters send (federation-interop.md 4.6, 4.7; Lemmy's and Mastodon's shapes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from fedgroups.activitypub.parse import MAX_ID_LENGTH, addressed_to
from fedgroups.activitypub.vocabulary import ACTIVITY_CONTEXT, PUBLIC
from fedgroups.errors import MalformedActivity

MAX_REPORT_COMMENT = 5_000  # Mastodon's limit on a report's comment
MAX_FLAG_OBJECTS = 20
MAX_REASON = 1_000


def _addressing(group_id: str, followers: str, *, is_public: bool) -> dict[str, Any]:
    if is_public:
        return {"to": [PUBLIC], "cc": [group_id, followers]}
    return {"to": [followers], "cc": [group_id]}


def render_moderators_change(
    kind: Literal["Add", "Remove"],
    actor_id: str,
    activity_id: str,
    moderator_id: str,
    *,
    group_id: str,
    followers: str,
    is_public: bool,
) -> dict[str, Any]:
    """Add or Remove of a moderator, `target` the moderators collection (FEP-1b12, Lemmy)."""
    return {
        "@context": ACTIVITY_CONTEXT,
        "id": activity_id,
        "type": kind,
        "actor": actor_id,
        "object": moderator_id,
        "target": f"{group_id}/moderators",
        "audience": group_id,
        **_addressing(group_id, followers, is_public=is_public),
    }


def render_lock(
    actor_id: str,
    activity_id: str,
    post_id: str,
    *,
    group_id: str,
    followers: str,
    is_public: bool,
) -> dict[str, Any]:
    """Lock of a thread: no more replies are shared (Lemmy's `Lock{Page}`)."""
    return {
        "@context": ACTIVITY_CONTEXT,
        "id": activity_id,
        "type": "Lock",
        "actor": actor_id,
        "object": post_id,
        "audience": group_id,
        **_addressing(group_id, followers, is_public=is_public),
    }


def render_group_ban(
    actor_id: str,
    activity_id: str,
    member_id: str,
    *,
    group_id: str,
    followers: str,
    reason: str,
    remove_data: bool,
) -> dict[str, Any]:
    """A ban in Lemmy's shape (`Block` with `target` the group), for FEP-1b12 members' servers.

    Addressed to the group's followers only: who is banned is the members' business.
    """
    activity = {
        "@context": ACTIVITY_CONTEXT,
        "id": activity_id,
        "type": "Block",
        "actor": actor_id,
        "object": member_id,
        "target": group_id,
        "audience": group_id,
        "removeData": remove_data,
        "to": [followers],
        "cc": [group_id],
    }
    if reason:
        activity["summary"] = reason
    return activity


def render_flag(
    activity_id: str, instance_actor_id: str, objects: list[str], comment: str
) -> dict[str, Any]:
    """A report sent to another server, as Mastodon sends its own (interop 4.7, 4.10).

    From the instance actor, so the reporter's and the moderator's identities stay here;
    `object` lists the account first, then its posts: Mastodon files it only in that shape.
    """
    return {
        "@context": ACTIVITY_CONTEXT,
        "id": activity_id,
        "type": "Flag",
        "actor": instance_actor_id,
        "content": comment[:MAX_REPORT_COMMENT],
        "object": objects,
    }


@dataclass(frozen=True)
class ParsedFlag:
    """A report from another server: what it names, and why."""

    ap_id: str
    actor: str
    objects: tuple[str, ...]
    comment: str
    recipients: frozenset[str]


def _ids(value: Any, limit: int) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    found: list[str] = []
    for item in items[:limit]:
        if isinstance(item, dict):
            item = item.get("id")
        if isinstance(item, str) and item.startswith(("https://", "http://")):
            found.append(item[:MAX_ID_LENGTH])
    return tuple(dict.fromkeys(found))


def _plain(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def parse_flag(data: dict[str, Any]) -> ParsedFlag:
    """Mastodon's Flag (instance actor, `content`, `object` list) or Lemmy's (`summary`, one id)."""
    objects = _ids(data.get("object"), MAX_FLAG_OBJECTS)
    if not objects:
        raise MalformedActivity("a Flag that names nothing")
    comment = _plain(data.get("content"), MAX_REPORT_COMMENT) or _plain(
        data.get("summary"), MAX_REPORT_COMMENT
    )
    return ParsedFlag(
        ap_id=_plain(data.get("id"), MAX_ID_LENGTH),
        actor=_plain(data.get("actor"), MAX_ID_LENGTH),
        objects=objects,
        comment=comment,
        recipients=addressed_to(data),
    )


@dataclass(frozen=True)
class ParsedModeration:
    """A moderator's activity: Delete of a post, Block of a member, Lock of a thread."""

    kind: str
    object_id: str
    target: str  # the group a ban applies to (Lemmy's `target`), or ""
    reason: str  # Lemmy's `summary`
    remove_data: bool  # a ban that also removes the member's posts (Lemmy's `removeData`)
    recipients: frozenset[str]


def parse_moderation(data: dict[str, Any]) -> ParsedModeration:
    object_ids = _ids(data.get("object"), 1)
    if not object_ids:
        raise MalformedActivity(f"{data.get('type')} without an object")
    targets = _ids(data.get("target"), 1)
    return ParsedModeration(
        kind=str(data.get("type", "")),
        object_id=object_ids[0],
        target=targets[0] if targets else "",
        reason=_plain(data.get("summary"), MAX_REASON),
        remove_data=data.get("removeData") is True,
        recipients=addressed_to(data),
    )
