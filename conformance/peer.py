"""The suite's own fediverse server: actors that follow, post and receive, signing with bovine.

It runs on aiohttp.web, serves its actors, keys, WebFinger, NodeInfo and the notes its actors
wrote, and records every delivery with whether bovine verified its signature. The instance under
test must be able to reach it: a loopback port for a local instance (fedgroups needs
FEDGROUPS_ALLOW_PRIVATE_PEERS=1 for that), a public address (`--peer-host`) for a public one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from bovine.crypto.signature import Signature

from conformance.http import Fetched, Http
from conformance.report import Failed
from conformance.signing import (
    ACTIVITY_JSON,
    Fault,
    KeyPair,
    Signer,
    delivery_verifier,
    faulty_post_headers,
    public_key_of,
)

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
SOFTWARE = "fedgroups-conformance-peer"


@dataclass
class PeerActor:
    """A Person (or the peer's Application actor) with its key, `https://peer/users/NAME`."""

    base_url: str
    name: str
    keys: KeyPair
    kind: str = "Person"

    @property
    def path(self) -> str:
        return "/actor" if self.kind == "Application" else f"/users/{self.name}"

    @property
    def id(self) -> str:
        return f"{self.base_url}{self.path}"

    @property
    def key_id(self) -> str:
        return f"{self.id}#main-key"

    @property
    def inbox(self) -> str:
        return f"{self.id}/inbox"

    @property
    def handle(self) -> str:
        return f"{self.name}@{urlsplit(self.base_url).netloc}"

    def document(self) -> dict[str, Any]:
        return {
            "@context": [AS_CONTEXT, "https://w3id.org/security/v1"],
            "id": self.id,
            "type": self.kind,
            "preferredUsername": self.name,
            "name": self.name,
            "inbox": self.inbox,
            "outbox": f"{self.id}/outbox",
            "followers": f"{self.id}/followers",
            "following": f"{self.id}/following",
            "endpoints": {"sharedInbox": f"{self.base_url}/inbox"},
            "manuallyApprovesFollowers": self.kind == "Application",
            "publicKey": {
                "id": self.key_id,
                "owner": self.id,
                "publicKeyPem": self.keys.public_pem,
            },
        }


@dataclass
class Delivery:
    """One POST the instance made to the peer, with what bovine made of its signature."""

    path: str
    activity: dict[str, Any]
    signer: str | None  # owner of the key that verified, None if the signature did not
    signed: str = ""  # the covered components: `headers` (cavage) or Signature-Input (RFC 9421)
    received_at: float = field(default_factory=time.monotonic)

    @property
    def verified_as_actor(self) -> bool:
        return self.signer is not None and self.signer == self.activity.get("actor")


@dataclass
class SignedFetch:
    """One signed GET the instance made to the peer, and whose key bovine verified it with."""

    path: str
    key_id: str
    signer: str | None  # owner of the key that verified, None if the signature did not


class Peer:
    """The running peer: actors, published objects and the deliveries received so far."""

    def __init__(self, http: Http, public_url: str, instance_url: str) -> None:
        self.http = http
        self.base_url = public_url.rstrip("/")
        self.instance_origins = {origin(instance_url)}  # the group's id may add its own
        self.run_id = secrets.token_hex(3)
        self.keys = KeyPair.generate()
        self.forger_keys = KeyPair.generate()
        self.instance = PeerActor(self.base_url, f"peer_{self.run_id}", self.keys, "Application")
        self.actors: dict[str, PeerActor] = {self.instance.name: self.instance}
        self.objects: dict[str, dict[str, Any]] = {}
        self.gone: set[str] = set()
        self.deliveries: list[Delivery] = []
        self.fetches: list[SignedFetch] = []
        self.requests_seen = 0  # anything at all the instance asked the peer
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._verify = delivery_verifier(self._fetch_key)
        self._keys_seen: dict[str, tuple[str, str]] = {}

    def actor(self, role: str) -> PeerActor:
        """A Person unique to this run (fresh ids: no cached key or follow from an earlier run)."""
        name = f"{role}_{self.run_id}"
        if name not in self.actors:
            self.actors[name] = PeerActor(self.base_url, name, self.keys)
        return self.actors[name]

    def new_id(self, actor: PeerActor, kind: str) -> str:
        return f"{actor.id}/{kind.lower()}/{secrets.token_hex(6)}"

    def publish(self, document: dict[str, Any]) -> None:
        self.objects[document["id"]] = document

    def unpublish(self, object_id: str) -> None:
        self.objects.pop(object_id, None)

    # --- talking to the instance -----------------------------------------------------------

    async def post(
        self, actor: PeerActor, url: str, activity: dict[str, Any], fault: Fault = Fault.NONE
    ) -> Fetched:
        body = json.dumps(activity).encode()
        if fault is Fault.NONE:
            return await Signer(self.http, actor.key_id, actor.keys.private_pem).post(url, body)
        headers = faulty_post_headers(
            url, body, actor.key_id, actor.keys.private_pem, self.forger_keys.private_pem, fault
        )
        return await self.http.request("POST", url, headers, body)

    async def signed_get(self, url: str) -> Fetched:
        """A GET signed by the peer's instance actor, as Mastodon signs every fetch."""
        signer = Signer(self.http, self.instance.key_id, self.instance.keys.private_pem)
        return await signer.get(url)

    async def wait_for(
        self, predicate: Callable[[Delivery], bool], timeout: float
    ) -> list[Delivery]:
        """Deliveries matching `predicate`, waiting up to `timeout` seconds for the first."""
        deadline = time.monotonic() + timeout
        while True:
            found = [delivery for delivery in self.deliveries if predicate(delivery)]
            remaining = deadline - time.monotonic()
            if found or remaining <= 0:
                return found
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    # --- serving ---------------------------------------------------------------------------

    async def _fetch_key(self, key_id: str) -> tuple[str, str] | None:
        if key_id in self._keys_seen:
            return self._keys_seen[key_id]
        if origin(key_id) not in self.instance_origins:  # only the instance talks to this peer
            return None
        try:
            fetched = await self.signed_get(key_id.split("#")[0])
            document = json.loads(fetched.body) if fetched.status == 200 else None
        except (Failed, ValueError):
            return None
        found = public_key_of(document, key_id) if isinstance(document, dict) else None
        if found is not None:  # failures are not remembered: the next delivery tries again
            self._keys_seen[key_id] = found
        return found

    async def _inbox(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {name.lower(): value for name, value in request.headers.items()}

        async def get_body() -> bytes:
            return body

        try:
            activity = json.loads(body)
        except ValueError:
            return web.Response(status=400)
        if not isinstance(activity, dict):
            return web.Response(status=400)
        url = f"{self.base_url}{request.path_qs}"
        signer = await self._verify(request.method, url, headers, get_body)
        self.deliveries.append(Delivery(request.path, activity, signer, _covered(headers)))
        self._changed.set()
        return web.Response(status=202 if signer else 401)

    @web.middleware
    async def _record_signed_fetches(self, request: web.Request, handler: Any) -> Any:
        """Mastodon-style peers check who signs a fetch; the suite records it to check too."""
        self.requests_seen += 1
        if request.method == "GET" and "signature" in request.headers:
            headers = {name.lower(): value for name, value in request.headers.items()}
            try:
                key_id = Signature.from_signature_header(headers["signature"]).key_id
            except (ValueError, KeyError, TypeError):
                key_id = ""
            url = f"{self.base_url}{request.path_qs}"
            signer = await self._verify("GET", url, headers, None) if key_id else None
            self.fetches.append(SignedFetch(request.path, key_id, signer))
        return await handler(request)

    def _actor_named(self, request: web.Request) -> PeerActor:
        actor = self.actors.get(request.match_info.get("name", self.instance.name))
        if actor is None:
            raise web.HTTPNotFound()
        if actor.name in self.gone:  # a deleted account answers 410, as Mastodon's do
            raise web.HTTPGone()
        return actor

    async def _actor(self, request: web.Request) -> web.Response:
        return _as_json(self._actor_named(request).document())

    async def _empty_collection(self, request: web.Request) -> web.Response:
        url = f"{self.base_url}{request.path}"
        return _as_json({"@context": AS_CONTEXT, "id": url, "type": "OrderedCollection",
                         "totalItems": 0, "orderedItems": []})  # fmt: skip

    async def _object(self, request: web.Request) -> web.Response:
        document = self.objects.get(f"{self.base_url}{request.path}")
        if document is None:  # deleted notes answer 404, as Mastodon's do
            raise web.HTTPNotFound()
        return _as_json(document)

    async def _webfinger(self, request: web.Request) -> web.Response:
        resource = request.query.get("resource", "").removeprefix("acct:")
        for actor in self.actors.values():
            if resource in (actor.handle, actor.id):
                links = [{"rel": "self", "type": ACTIVITY_JSON, "href": actor.id}]
                document = {"subject": f"acct:{actor.handle}", "links": links}
                return web.json_response(document, content_type="application/jrd+json")
        raise web.HTTPNotFound()

    async def _nodeinfo_links(self, request: web.Request) -> web.Response:
        rel = "http://nodeinfo.diaspora.software/ns/schema/2.0"
        return web.json_response({"links": [{"rel": rel, "href": f"{self.base_url}/nodeinfo/2.0"}]})

    async def _nodeinfo(self, request: web.Request) -> web.Response:
        return web.json_response({
            "version": "2.0", "software": {"name": SOFTWARE, "version": "0.1.0"},
            "protocols": ["activitypub"], "services": {"inbound": [], "outbound": []},
            "openRegistrations": False, "usage": {"users": {"total": len(self.actors)}},
            "metadata": {},
        })  # fmt: skip

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._record_signed_fetches])
        app.router.add_post("/inbox", self._inbox)
        app.router.add_post("/actor/inbox", self._inbox)
        app.router.add_post("/users/{name}/inbox", self._inbox)
        app.router.add_get("/actor", self._actor)
        app.router.add_get("/users/{name}", self._actor)
        for collection in ("outbox", "followers", "following"):
            app.router.add_get(f"/actor/{collection}", self._empty_collection)
            app.router.add_get(f"/users/{{name}}/{collection}", self._empty_collection)
        app.router.add_get("/.well-known/webfinger", self._webfinger)
        app.router.add_get("/.well-known/nodeinfo", self._nodeinfo_links)
        app.router.add_get("/nodeinfo/2.0", self._nodeinfo)
        app.router.add_get("/{tail:.*}", self._object)
        return app

    async def start(self, listener: socket.socket, tls: ssl.SSLContext | None = None) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, listener, ssl_context=tls).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _covered(headers: dict[str, str]) -> str:
    """What the request's signature covers, for a failure reason to quote."""
    if "signature-input" in headers:
        return f"RFC 9421 {headers['signature-input']}"
    if "signature" not in headers:
        return "no signature"
    try:
        return f"headers={Signature.from_signature_header(headers['signature']).headers!r}"
    except (ValueError, KeyError, TypeError):
        return f"an unparseable Signature header {headers['signature'][:80]!r}"


def listen(bind_host: str, port: int) -> socket.socket:
    """The peer's listening socket, bound before start so its port is known (0 = any free)."""
    listener = socket.socket(socket.AF_INET6 if ":" in bind_host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((bind_host, port))
    return listener


def _as_json(document: dict[str, Any]) -> web.Response:
    return web.Response(body=json.dumps(document).encode(), content_type=ACTIVITY_JSON)
