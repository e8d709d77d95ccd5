"""Finding an actor from what a person types: `@name@host`, `name@host`, or the actor's URL.

Handles go through WebFinger on the handle's host; the actor document is then fetched and
stored by `RemoteActors`, under the same guards as every other fetch.
"""

from __future__ import annotations

from urllib.parse import quote

from fedgroups.activitypub.parse import same_origin
from fedgroups.activitypub.webfinger import Handle, actor_link, parse_handle
from fedgroups.errors import BlockedDomain, FetchError, NotFound
from fedgroups.federation.context import Federation
from fedgroups.federation.fetch import FetchStatusError, fetch_json
from fedgroups.models import Actor
from fedgroups.models.domain import is_domain_blocked


async def resolve_actor(federation: Federation, handle_or_url: str) -> Actor:
    """The actor behind a handle or URL: a local one from the database, a remote one fetched.

    Raises ValidationError for text that is neither, NotFound when nobody answers to it,
    BlockedDomain for blocked hosts, FetchError when the host cannot be reached safely.
    """
    text = handle_or_url.strip()
    settings = federation.settings
    if text.startswith(("https://", "http://")):
        if same_origin(text, settings.base_url):
            return await _local_by_id(text)
        return await federation.remote_actors.get_actor(text)
    handle = parse_handle(text)
    if handle.domain == settings.domain.lower():
        return await _local_by_handle(handle)
    return await federation.remote_actors.get_actor(await webfinger(federation, handle))


async def webfinger(federation: Federation, handle: Handle) -> str:
    """The actor id that `handle`'s host gives for it (RFC 7033)."""
    if await is_domain_blocked(handle.domain):
        raise BlockedDomain(f"{handle.domain} is blocked")
    # Plain http only where the instance may talk to local test peers at all.
    schemes = ["https", "http"] if federation.settings.allow_private_peers else ["https"]
    resource = quote(handle.acct, safe=":@")
    failure: FetchError | None = None
    for scheme in schemes:
        url = f"{scheme}://{handle.domain}/.well-known/webfinger?resource={resource}"
        try:
            fetched = await fetch_json(federation.client, url)
        except FetchStatusError as exc:
            if exc.status in (404, 410):
                raise NotFound(f"{handle.domain} knows no {handle.username}") from None
            raise
        except FetchError as exc:  # could not speak this scheme there: try the next one
            failure = exc
            continue
        return actor_link(fetched.data)
    assert failure is not None
    raise failure


async def _local_by_handle(handle: Handle) -> Actor:
    actor = await Actor.get_or_none(
        handle_key=f"{handle.username.lower()}@{handle.domain}", is_local=True, gone_at=None
    )
    if actor is None:
        raise NotFound(f"nobody here is called {handle.username}")
    return actor


async def _local_by_id(ap_id: str) -> Actor:
    actor = await Actor.get_or_none(ap_id=ap_id, is_local=True, gone_at=None)
    if actor is None:
        raise NotFound(f"nothing here is at {ap_id}")
    return actor
