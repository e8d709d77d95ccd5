"""Parsing of activities that point at other activities: the Accept or Reject of a Follow,
an Announce and what it wraps, and an Undo. Untrusted JSON in, frozen dataclasses out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fedgroups.activitypub.parse import MAX_ID_LENGTH, POST_TYPES
from fedgroups.errors import MalformedActivity

WRAPPERS = frozenset({"Create", "Update", "Delete"})


def _id(value: Any, what: str, *, required: bool = True) -> str:
    """An http(s) id given as a string or as an object with an id."""
    if isinstance(value, dict):
        value = value.get("id")
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise MalformedActivity(f"{what} must be an http(s) id")
    if len(value) > MAX_ID_LENGTH:
        raise MalformedActivity(f"{what} is too long")
    return value


@dataclass(frozen=True)
class FollowReference:
    """The Follow an Accept or Reject answers: its id, and who followed whom when embedded."""

    follow_id: str  # "" when only the follower and the followed are given
    follower: str  # "" when the object is a bare id
    followed: str


def parse_follow_answer(activity: dict[str, Any]) -> FollowReference:
    """The Follow named by an Accept or Reject (embedded, as Mastodon and we send, or by id)."""
    target = activity.get("object")
    if isinstance(target, str):
        return FollowReference(follow_id=_id(target, "object"), follower="", followed="")
    if not isinstance(target, dict) or target.get("type") != "Follow":
        raise MalformedActivity("the answer does not name a Follow")
    return FollowReference(
        follow_id=_id(target.get("id"), "Follow id", required=False),
        follower=_id(target.get("actor"), "Follow actor"),
        followed=_id(target.get("object"), "Follow object"),
    )


@dataclass(frozen=True)
class Announced:
    """What an Announce carries. `embedded` is the post as the announcer sent it: untrusted."""

    announce_id: str
    wrapper: str  # "" when the post itself is announced, else Create, Update or Delete (FEP-1b12)
    object_id: str
    embedded: dict[str, Any] | None


def parse_announce(activity: dict[str, Any]) -> Announced:
    """An Announce of a post (by id or embedded), or of a Create, Update or Delete of one."""
    announce_id = _id(activity.get("id"), "Announce id")
    target = activity.get("object")
    wrapper = ""
    if isinstance(target, dict) and target.get("type") in WRAPPERS:
        wrapper = str(target["type"])
        target = target.get("object")  # one level only: nested wrappers are refused (T11)
    if isinstance(target, str):
        return Announced(announce_id, wrapper, _id(target, "announced object"), None)
    if not isinstance(target, dict):
        raise MalformedActivity("Announce without an object")
    kind = target.get("type")
    if kind not in POST_TYPES and not (wrapper == "Delete" and kind == "Tombstone"):
        raise MalformedActivity(f"cannot take an Announce of {kind!r}")
    return Announced(announce_id, wrapper, _id(target, "announced object"), target)


@dataclass(frozen=True)
class Undone:
    """The activity an Undo takes back: its type, its id if given, and its object."""

    kind: str
    ap_id: str
    object_id: str


def parse_undo(activity: dict[str, Any]) -> Undone:
    target = activity.get("object")
    if not isinstance(target, dict):
        raise MalformedActivity("Undo must embed what it undoes")
    return Undone(
        kind=str(target.get("type", ""))[:32],
        ap_id=_id(target.get("id"), "undone id", required=False),
        object_id=_id(target.get("object"), "undone object", required=False),
    )
