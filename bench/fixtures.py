"""What the figures run on: a Mastodon-style Create{Note}, remote members, groups, posts.

Rows are made through the real services where one exists (groups, the outbox), and in bulk
where only volume matters (100,000 posts, 1,000 remote members).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fedgroups.activitypub.keys import generate_key_pair
from fedgroups.db import database
from fedgroups.groups.directory import create_group
from fedgroups.models import (
    Actor,
    ActorKind,
    Group,
    Membership,
    MembershipState,
    PeerDomain,
    Post,
)
from fedgroups.settings import Settings

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
MASTODON_CONTEXT = [
    "https://www.w3.org/ns/activitystreams",
    "https://w3id.org/security/v1",
    {
        "ostatus": "http://ostatus.org#",
        "atomUri": "ostatus:atomUri",
        "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
        "conversation": "ostatus:conversation",
        "sensitive": "as:sensitive",
        "toot": "http://joinmastodon.org/ns#",
        "votersCount": "toot:votersCount",
        "Hashtag": "as:Hashtag",
    },
]
TEXT = (
    "Checking in after a rough week. The breathing exercise from Tuesday's thread helped more "
    "than I expected, and I finally talked to my GP about the sleep problems. Thank you all for "
    "being here; it genuinely makes a difference to know people get it."
)


def bench_settings(base_url: str, database_url: str, data_dir: Path) -> Settings:
    """Settings for seeding from the bench process itself (never for serving)."""
    return Settings(
        base_url=base_url,
        database_url=database_url,
        data_dir=data_dir,
        secret_key="bench-" + "x" * 40,
        allow_private_peers=True,
        workers=0,
    )


@contextlib.asynccontextmanager
async def seeding(settings: Settings) -> AsyncIterator[None]:
    async with database(settings):
        yield


@dataclass(frozen=True)
class Member:
    """A remote member: who signs (sender) or who receives (recipient)."""

    ap_id: str
    inbox_url: str
    shared_inbox: str = ""

    @property
    def key_id(self) -> str:
        return f"{self.ap_id}#main-key"

    @property
    def domain(self) -> str:
        return self.ap_id.split("/")[2]


def create_note(member: Member, group_ap_id: str, number: int) -> dict[str, Any]:
    """A ~2.4 KB Create{Note} the way Mastodon sends a mention of a group."""
    note_id = f"{member.ap_id}/statuses/{number}"
    domain = member.domain
    recipients = {"to": [PUBLIC], "cc": [f"{member.ap_id}/followers", group_ap_id]}
    mention = (
        f'<p><span class="h-card"><a href="{group_ap_id}" class="u-url mention">@<span>'
        f"group</span></a></span> {TEXT} "
        f'<a href="https://{domain}/tags/selfcare" class="mention hashtag" rel="tag">'
        "#<span>selfcare</span></a></p>"
    )
    return {
        "@context": MASTODON_CONTEXT,
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": member.ap_id,
        "published": "2026-11-21T12:34:56Z",
        **recipients,
        "object": {
            "id": note_id,
            "type": "Note",
            "summary": None,
            "inReplyTo": None,
            "published": "2026-11-21T12:34:56Z",
            "url": f"https://{domain}/@m/{number}",
            "attributedTo": member.ap_id,
            **recipients,
            "sensitive": False,
            "atomUri": note_id,
            "inReplyToAtomUri": None,
            "conversation": f"tag:{domain},2026-11-21:objectId={number}:objectType=Conversation",
            "content": mention,
            "contentMap": {"en": mention},
            "attachment": [],
            "tag": [
                {"type": "Mention", "href": group_ap_id, "name": "@group"},
                {"type": "Hashtag", "href": f"https://{domain}/tags/selfcare", "name": "#selfcare"},
            ],
            "replies": {
                "id": f"{note_id}/replies",
                "type": "Collection",
                "first": {
                    "type": "CollectionPage",
                    "next": f"{note_id}/replies?only_other_accounts=true&page=true",
                    "partOf": f"{note_id}/replies",
                    "items": [],
                },
            },
        },
    }


def senders(count: int, domains: int) -> list[Member]:
    """Remote members spread over `domains` Mastodon-like servers with shared inboxes.

    The servers are never contacted (.invalid): the figures that use them send nothing.
    """
    return [
        Member(
            f"https://peer{i % domains}.bench.invalid/users/m{i}",
            f"https://peer{i % domains}.bench.invalid/users/m{i}/inbox",
            f"https://peer{i % domains}.bench.invalid/inbox",
        )
        for i in range(count)
    ]


def recipients_at(origins: Iterable[str]) -> list[Member]:
    """One member per origin (`http://127.0.0.1:PORT`), personal inbox, no shared inbox."""
    return [
        Member(f"{origin}/users/r{i}", f"{origin}/users/r{i}/inbox")
        for i, origin in enumerate(origins)
    ]


async def make_group(settings: Settings, slug: str) -> Group:
    group = await create_group(settings, slug, f"{slug.title()} circle")
    await group.fetch_related("actor")
    return group


async def add_members(group: Group, members: list[Member], public_key_pem: str) -> list[Actor]:
    """Store the members as cached remote actors and approve them into `group`."""
    existing = {
        actor.ap_id: actor
        for actor in await Actor.filter(ap_id__in=[member.ap_id for member in members])
    }
    fresh = [
        Actor(
            ap_id=member.ap_id,
            kind=ActorKind.PERSON,
            is_local=False,
            username=member.ap_id.rsplit("/", 1)[1],
            domain=member.domain,
            handle_key=member.ap_id,
            inbox_url=member.inbox_url,
            shared_inbox_url=member.shared_inbox,
            public_key_id=member.key_id,
            public_key_pem=public_key_pem,
            fetched_at=datetime.now(UTC),
        )
        for member in members
        if member.ap_id not in existing
    ]
    await Actor.bulk_create(fresh, batch_size=500)
    now = datetime.now(UTC)
    # Known as Mastodon, as the NodeInfo lookup at follow time would have found: one boost form.
    await PeerDomain.bulk_create(
        [
            PeerDomain(domain=domain, software="mastodon", software_checked_at=now)
            for domain in sorted({member.domain for member in members})
        ],
        ignore_conflicts=True,
    )
    actors = await Actor.filter(ap_id__in=[member.ap_id for member in members])
    await Membership.bulk_create(
        [Membership(group=group, actor=actor, state=MembershipState.APPROVED) for actor in actors],
        batch_size=500,
    )
    return list(actors)


async def pause_domains(domains: Iterable[str]) -> None:
    """Mark peers unavailable: deliveries to them are enqueued (paused) but never sent."""
    now = datetime.now(UTC)
    for domain in domains:
        await PeerDomain.update_or_create(
            defaults={"unavailable_since": now, "consecutive_failures": 8}, domain=domain
        )


async def add_posts(group: Group, author: Actor, count: int) -> None:
    """`count` stored posts in `group`, newest last, like a group that has been busy for years."""
    start = datetime.now(UTC) - timedelta(minutes=count)
    content = f"<p>{TEXT}</p>"
    for first in range(0, count, 2_000):
        await Post.bulk_create(
            [
                Post(
                    ap_id=f"{author.ap_id}/statuses/{number}",
                    group=group,
                    author=author,
                    publisher=author,
                    content=content,
                    is_public=True,
                    published_at=start + timedelta(minutes=number),
                )
                for number in range(first, min(first + 2_000, count))
            ]
        )


def sender_keys() -> tuple[str, str]:
    """One RSA key pair shared by every simulated sender (each still has its own key id)."""
    return generate_key_pair()
