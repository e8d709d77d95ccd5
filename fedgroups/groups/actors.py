"""Creating and finding this instance's own actors: people, groups and the instance actor."""

from __future__ import annotations

from typing import Any

from tortoise.exceptions import IntegrityError

from fedgroups.activitypub.keys import generate_key_pair
from fedgroups.errors import Conflict, NotFound
from fedgroups.models import Actor, ActorKind
from fedgroups.settings import Settings

INSTANCE_ACTOR_PATH = "/actor"
ACTOR_PATHS = {ActorKind.PERSON: "/u/", ActorKind.GROUP: "/g/"}


def local_actor_id(settings: Settings, kind: ActorKind, username: str) -> str:
    return f"{settings.base_url}{ACTOR_PATHS[kind]}{username}"


def handle_key(username: str, domain: str) -> str:
    """Unique key of a handle: usernames compare case-insensitively, as on Mastodon."""
    return f"{username.lower()}@{domain.lower()}"


def _local_actor_fields(settings: Settings, ap_id: str, username: str) -> dict[str, Any]:
    """What every local actor has: its endpoints under its id, and a fresh RSA-2048 key pair."""
    private_pem, public_pem = generate_key_pair()
    return {
        "ap_id": ap_id,
        "is_local": True,
        "username": username,
        "domain": settings.domain,
        "handle_key": handle_key(username, settings.domain),
        "shared_inbox_url": f"{settings.base_url}/inbox",
        "outbox_url": f"{ap_id}/outbox",
        "public_key_id": f"{ap_id}#main-key",
        "public_key_pem": public_pem,
        "private_key_pem": private_pem,
    }


async def create_local_actor(
    settings: Settings, kind: ActorKind, username: str, display_name: str, *, locked: bool = False
) -> Actor:
    """A new local actor with a fresh RSA-2048 key pair. Raises Conflict if the name is taken."""
    if await Actor.exists(handle_key=handle_key(username, settings.domain)):
        raise Conflict(f"the name {username!r} is already taken on {settings.domain}")
    ap_id = local_actor_id(settings, kind, username)
    try:
        return await Actor.create(
            **_local_actor_fields(settings, ap_id, username),
            kind=kind,
            display_name=display_name,
            url=ap_id,
            inbox_url=f"{ap_id}/inbox",
            followers_url=f"{ap_id}/followers",
            manually_approves_followers=locked,
        )
    except IntegrityError:  # lost a race with another process creating the same name
        raise Conflict(f"the name {username!r} is already taken on {settings.domain}") from None


async def ensure_instance_actor(settings: Settings) -> Actor:
    """The Application actor that signs our GETs (FEP-2677); made once, on first need."""
    ap_id = f"{settings.base_url}{INSTANCE_ACTOR_PATH}"
    existing = await Actor.get_or_none(ap_id=ap_id)
    if existing is not None:
        return existing
    try:
        # Its preferredUsername is the domain, which Mastodon webfingers back.
        return await Actor.create(
            **_local_actor_fields(settings, ap_id, settings.domain),
            kind=ActorKind.APPLICATION,
            display_name=settings.domain,
            url=f"{settings.base_url}/about",
            inbox_url=f"{settings.base_url}/inbox",
            manually_approves_followers=True,
        )
    except IntegrityError:  # another process made it first
        return await Actor.get(ap_id=ap_id)


async def find_local_actor(settings: Settings, username: str) -> Actor:
    """The local actor with this handle (any case), or NotFound."""
    actor = await Actor.get_or_none(
        handle_key=handle_key(username, settings.domain), is_local=True, gone_at=None
    )
    if actor is None:
        raise NotFound(f"no local actor named {username!r}")
    return actor


async def find_actor_by_handle(settings: Settings, handle: str) -> Actor:
    """A known actor, local or remote, by `name@domain` (an optional leading @ is fine)."""
    username, at, domain = handle.strip().lstrip("@").rpartition("@")
    if not at or not username or not domain:
        raise NotFound(f"{handle!r} is not a handle like alice@example.org")
    if domain.lower() == settings.domain.lower():
        return await find_local_actor(settings, username)
    matches = await Actor.filter(
        domain=domain.lower(), username__iexact=username, is_local=False, gone_at=None
    ).order_by("-id")
    if not matches:
        raise NotFound(f"no known actor {username}@{domain}")
    return matches[0]
