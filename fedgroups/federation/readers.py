"""Who signed a GET: the actor behind a signed fetch, so visibility can decide what it may read.

Unlike the inbox, a GET is never refused for its signature: a missing, malformed, forged or
unverifiable one makes the request anonymous, and anonymous readers still get everything
public. Only an actor's own key names that actor: a server's instance actor signing a fetch is
the instance actor, never one of its users (federation-interop.md 7.2).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import urlsplit

from fedgroups.errors import FedgroupsError
from fedgroups.federation.keys import RemoteActors
from fedgroups.federation.signatures import signature_key_id, verify_request
from fedgroups.models import Actor
from fedgroups.models.domain import is_domain_blocked

log = logging.getLogger(__name__)


def is_signed(headers: Mapping[str, str]) -> bool:
    return any(name.lower() in ("signature", "signature-input") for name in headers)


def _domain(url: str) -> str:
    return urlsplit(url).netloc.lower()


async def signed_reader(
    method: str, url: str, headers: Mapping[str, str], remote_actors: RemoteActors
) -> Actor | None:
    """The verified signer of a GET, or None (unsigned, invalid, unverifiable or blocked)."""
    if not is_signed(headers):
        return None
    try:
        key_id = signature_key_id(method, url, headers)
        if await is_domain_blocked(_domain(key_id)):
            return None  # blocked servers read nothing, and we fetch nothing from them (T65)
        verified = await verify_request(method, url, headers, b"", remote_actors.resolve_key)
    except FedgroupsError as exc:  # SignatureError, KeyUnavailable, FetchError, ...
        log.debug("signed GET of %s read as anonymous: %s", url, exc)
        return None
    return await _own_key_holder(verified.key_id, verified.owner)


async def _own_key_holder(key_id: str, owner: str) -> Actor | None:
    """The key's owner, if it is a live actor that lists this very key as its own.

    The resolver has already checked the reciprocal claim (the owner's document lists the
    key); checking again here keeps a stale cache from naming an actor that rotated away.
    """
    actor = await Actor.get_or_none(ap_id=owner, gone_at=None)
    if actor is None or actor.public_key_id != key_id:
        return None
    return actor
