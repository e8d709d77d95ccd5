"""Update of a remote actor's own profile: the stored copy (name, inbox, key) is refreshed."""

from __future__ import annotations

from fedgroups.activitypub.parse import parse_actor
from fedgroups.errors import MalformedActivity
from fedgroups.federation.handlers.common import Received, embedded_object


async def receive_update_actor(received: Received) -> None:
    """Mastodon sends Update{Person} after a rename or a key change (interop 8)."""
    document = embedded_object(received.activity) or {}
    if document.get("id") != received.actor.ap_id:
        raise MalformedActivity("an actor may update only its own profile")
    await received.federation.remote_actors.store_actor(parse_actor(document))
