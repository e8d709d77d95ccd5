"""A group with members on a Mastodon-like, a Lemmy-like and an unknown server, for moderation
tests; and readers of what the group sent, to whom."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fedgroups.activitypub.parse import parse_post
from fedgroups.groups.membership import decide_membership, request_membership
from fedgroups.groups.posting import receive_post
from fedgroups.models import Actor, Delivery, Group, OutboxActivity, PeerDomain, Post
from fedgroups.settings import Settings
from tests.factories import make_account, make_group, make_remote_actor

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@dataclass
class Circle:
    group: Group
    mastodon: Actor  # mo@masto.test, whose server runs Mastodon
    lemmy: Actor  # lee@lemmy.test, whose server runs Lemmy
    rosa: Actor  # rosa@peer.test, software unknown
    owner: Actor  # omar, the local owner


async def make_circle(settings: Settings, *, private: bool = False) -> Circle:
    omar = await make_account(settings, "omar")
    await omar.fetch_related("actor")
    group = await make_group(settings, "recovery", private=private, owner="omar")
    await PeerDomain.create(domain="masto.test", software="mastodon")
    await PeerDomain.create(domain="lemmy.test", software="lemmy")
    members = []
    for base, name in (
        ("https://masto.test", "mo"),
        ("https://lemmy.test", "lee"),
        ("https://peer.test", "rosa"),
    ):
        actor = await make_remote_actor(base, name)
        await request_membership(group, actor, f"{actor.ap_id}/follows/1")
        if private:
            await decide_membership(group, actor, approve=True)
        members.append(actor)
    await OutboxActivity.all().delete()  # the Accepts are not what these tests look at
    return Circle(group, members[0], members[1], members[2], omar.actor)


def note(group: Group, author: Actor, number: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"{author.ap_id}/notes/{number}",
        "type": "Note",
        "attributedTo": author.ap_id,
        "content": f"<p>post {number}</p>",
        "to": [PUBLIC, group.actor.ap_id] if not group.is_private else [group.actor.ap_id],
        **extra,
    }


async def post_by(circle: Circle, author: Actor, number: int, **extra: Any) -> Post | None:
    body = note(circle.group, author, number, **extra)
    create = {"id": f"{body['id']}/activity", "type": "Create", "actor": author.ap_id}
    create["object"] = body
    return await receive_post(circle.group, author, parse_post(body), create)


async def sent(kind: str | None = None) -> list[dict[str, Any]]:
    """What the group and instance sent, oldest first."""
    rows = OutboxActivity.all().order_by("id")
    if kind is not None:
        rows = rows.filter(activity_type=kind)
    return [row.payload for row in await rows]


async def inboxes_of(activity_id: str) -> set[str]:
    rows = await Delivery.filter(activity__ap_id=activity_id).values_list("inbox_url", flat=True)
    return {str(row) for row in rows}


def wrapped(activities: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """Announces whose object is an embedded activity of `kind` (the FEP-1b12 form)."""
    return [
        activity
        for activity in activities
        if activity["type"] == "Announce"
        and isinstance(activity["object"], dict)
        and activity["object"].get("type") == kind
    ]
