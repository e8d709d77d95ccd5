"""The federation services of one running instance: the pooled client and what uses it.

Built in the app lifespan (or by a standalone worker) and closed with it, so several instances
can run in one process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from fedgroups import __version__
from fedgroups.activitypub.keys import load_private_key
from fedgroups.federation.fetch import SignGet
from fedgroups.federation.http import build_client, build_delivery_client
from fedgroups.federation.inbox_writer import InboxWriter
from fedgroups.federation.keys import RemoteActors
from fedgroups.federation.policy_reads import PolicyReads
from fedgroups.federation.signatures import SchemePreferences, sign_cavage
from fedgroups.models import Actor
from fedgroups.settings import Settings


def user_agent(settings: Settings) -> str:
    # Some servers and proxies refuse requests without a User-Agent (guppe 1.5.0).
    return f"fedgroups/{__version__} (+{settings.base_url}/)"


@dataclass
class Federation:
    settings: Settings
    client: httpx.AsyncClient
    prefs: SchemePreferences
    remote_actors: RemoteActors
    delivery_client: httpx.AsyncClient  # the same guard over a transport built for fan-out
    inbox_writer: InboxWriter = field(default_factory=InboxWriter)
    policy_reads: PolicyReads = field(default_factory=PolicyReads)

    async def close(self) -> None:
        await self.inbox_writer.close()  # what requests handed over is committed first
        await self.client.aclose()
        await self.delivery_client.aclose()


def instance_get_signer(instance_actor: Actor) -> SignGet:
    """Sign every outgoing GET as the instance actor (Mastodon's authorized fetch needs it)."""
    private_key = load_private_key(instance_actor.private_key_pem or "")
    key_id = instance_actor.public_key_id

    def sign_get(method: str, url: str) -> Mapping[str, str]:
        return sign_cavage(method, url, {}, None, key_id, private_key)

    return sign_get


def start_federation(settings: Settings, instance_actor: Actor) -> Federation:
    client = build_client(
        allow_private_peers=settings.allow_private_peers, user_agent=user_agent(settings)
    )
    sign_get = instance_get_signer(instance_actor)
    return Federation(
        settings=settings,
        client=client,
        prefs=SchemePreferences(),
        remote_actors=RemoteActors(settings, client, sign_get),
        delivery_client=build_delivery_client(
            allow_private_peers=settings.allow_private_peers, user_agent=user_agent(settings)
        ),
    )
