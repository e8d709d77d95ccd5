"""Remote actors and their public keys: fetched from their origin, cached, refreshed on rotation.

`RemoteActors.resolve_key` is the key resolver the signature verifier calls: from memory, then
the database, then one signed fetch; a refresh (after a failed check) is rate-limited per key.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import httpx
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from fedgroups.activitypub.parse import ParsedActor, parse_actor, parse_key_document, same_origin
from fedgroups.errors import (
    BlockedDomain,
    FetchError,
    KeyUnavailable,
    MalformedActivity,
    SignatureError,
)
from fedgroups.federation.fetch import FetchStatusError, SignGet, fetch_document
from fedgroups.federation.signatures import PublicKeyInfo
from fedgroups.models import Actor, ActorKind
from fedgroups.models.domain import is_domain_blocked
from fedgroups.settings import Settings

KEY_CACHE_SIZE = 10_000
# One re-fetch per key per cool-down: bad signatures must not make us hammer a peer (T09).
REFRESH_COOLDOWN_SECONDS = 60.0


def _domain_of(url: str) -> str:
    return httpx.URL(url).netloc.decode("ascii").lower()


def _key_info(key_id: str, owner: str, pem: str) -> PublicKeyInfo:
    try:
        public_key = load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise SignatureError(f"unusable public key {key_id}") from exc
    return PublicKeyInfo(key_id=key_id, owner=owner, public_key=public_key)  # type: ignore[arg-type]


class RemoteActors:
    """Fetches, stores and caches actors of other servers, and resolves signing keys."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient, sign_get: SignGet) -> None:
        self._settings = settings
        self._client = client
        self._sign_get = sign_get
        self._keys: OrderedDict[str, PublicKeyInfo] = OrderedDict()
        self._refreshed_at: dict[str, float] = {}

    @property
    def sign_get(self) -> SignGet:
        """Signs our GETs as the instance actor (used for every fetch this instance makes)."""
        return self._sign_get

    async def resolve_key(self, key_id: str, refresh: bool) -> PublicKeyInfo:
        """The public key behind `key_id`, for verifying a signature."""
        if same_origin(key_id, self._settings.base_url):
            return await self._local_key(key_id)
        if not refresh:
            cached = self._keys.get(key_id) or await self._stored_key(key_id)
            if cached is not None:
                return self._remember(cached)
        elif not self._may_refresh(key_id):
            raise SignatureError("signature does not verify (key refreshed recently)")
        try:
            return self._remember(await self._fetch_key(key_id))
        except KeyUnavailable:
            if refresh:  # we know a key and it did not verify: the signature is bad (401)
                raise SignatureError("signature does not verify") from None
            raise  # no key at all yet: the sender should retry later (503)

    async def get_actor(self, ap_id: str, *, refresh: bool = False) -> Actor:
        """The stored actor, fetched from its origin when unknown (or when asked to refresh)."""
        if not refresh:
            actor = await Actor.get_or_none(ap_id=ap_id)
            if actor is not None:
                return actor
        await self._refuse_blocked(ap_id)
        document = await self._fetch(ap_id)
        return await self.store_actor(parse_actor(document))

    async def store_actor(self, parsed: ParsedActor) -> Actor:
        """Insert or update a remote actor (never a local one: those are ours to define)."""
        if same_origin(parsed.ap_id, self._settings.base_url):
            raise MalformedActivity("a remote document cannot define a local actor")
        if not parsed.keys:
            raise MalformedActivity(f"{parsed.ap_id} has no usable public key")
        key = parsed.keys[0]
        fields: dict[str, Any] = {
            "kind": parsed.kind if parsed.kind in set(ActorKind) else ActorKind.PERSON,
            "is_local": False,
            "username": parsed.username,
            "domain": _domain_of(parsed.ap_id),
            # Two remote actors may share a name (Lemmy users and communities), so a remote
            # actor's unique handle key is its id; local handles are name@domain.
            "handle_key": parsed.ap_id,
            "display_name": parsed.display_name,
            "summary": parsed.summary,
            "url": parsed.url,
            "inbox_url": parsed.inbox,
            "shared_inbox_url": parsed.shared_inbox,
            "outbox_url": parsed.outbox,
            "followers_url": parsed.followers,
            "manually_approves_followers": parsed.manually_approves_followers,
            "public_key_id": key.key_id,
            "public_key_pem": key.public_key_pem,
            "fetched_at": datetime.now(UTC),
            "gone_at": None,
        }
        actor, _created = await Actor.update_or_create(defaults=fields, ap_id=parsed.ap_id)
        self._keys.pop(key.key_id, None)
        return actor

    async def _local_key(self, key_id: str) -> PublicKeyInfo:
        # Our own actors' keys come from our database, never from an HTTP fetch (T07).
        actor = await Actor.get_or_none(public_key_id=key_id, is_local=True)
        if actor is None:
            raise SignatureError(f"unknown local key {key_id}")
        return _key_info(key_id, actor.ap_id, actor.public_key_pem)

    async def _stored_key(self, key_id: str) -> PublicKeyInfo | None:
        actor = await Actor.get_or_none(public_key_id=key_id, is_local=False, gone_at=None)
        if actor is None:
            return None
        return _key_info(key_id, actor.ap_id, actor.public_key_pem)

    def _remember(self, info: PublicKeyInfo) -> PublicKeyInfo:
        self._keys[info.key_id] = info
        self._keys.move_to_end(info.key_id)
        while len(self._keys) > KEY_CACHE_SIZE:
            self._keys.popitem(last=False)
        return info

    def _may_refresh(self, key_id: str) -> bool:
        now = time.monotonic()
        last = self._refreshed_at.get(key_id)
        if last is not None and now - last < REFRESH_COOLDOWN_SECONDS:
            return False
        self._refreshed_at[key_id] = now
        return True

    async def _fetch_key(self, key_id: str) -> PublicKeyInfo:
        await self._refuse_blocked(key_id)
        document = await self._fetch(key_id.split("#", 1)[0])
        if document.get("type") in {kind.value for kind in ActorKind}:
            actor = await self.store_actor(parse_actor(document))
        else:  # a stand-alone key document: its owner must list it (FEP-fe34)
            key = parse_key_document(document)
            actor = await self.get_actor(key.owner, refresh=True)
        if actor.public_key_id != key_id:
            raise SignatureError(f"{actor.ap_id} does not list key {key_id}")
        return _key_info(key_id, actor.ap_id, actor.public_key_pem)

    async def _fetch(self, url: str) -> dict[str, Any]:
        try:
            fetched = await fetch_document(self._client, url, sign_get=self._sign_get)
        except FetchStatusError as exc:
            if exc.status in (404, 410):  # the key or actor is gone: not a transient failure
                raise SignatureError(f"{url} is gone ({exc.status})") from exc
            raise KeyUnavailable(str(exc)) from exc
        except FetchError as exc:
            raise KeyUnavailable(str(exc)) from exc
        return fetched.data

    async def _refuse_blocked(self, url: str) -> None:
        # No fetch at all towards a blocked domain (T13).
        domain = _domain_of(url)
        if await is_domain_blocked(domain):
            raise BlockedDomain(f"{domain} is blocked")
