"""Remote fediverse servers for tests, on real loopback sockets.

`RemotePeer` is one remote actor: its key pair, documents and signed requests; `serve_peer`
runs it as a plain HTTP server, so our instance fetches its actor and key over the wire.
`Receiver` is a remote server's inboxes: it verifies our HTTP signatures, records every body
it accepts, hosts any number of actors, can go down and come back on the same port, and
misbehaves on request (statuses, Retry-After, slow or held answers).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import uvicorn
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedgroups.activitypub.keys import generate_key_pair, load_private_key
from fedgroups.errors import SignatureError
from fedgroups.federation.signatures import (
    PublicKeyInfo,
    sign_cavage,
    sign_rfc9421,
    verify_request,
)

AP_JSON = "application/activity+json"
shared_key_pair = functools.cache(generate_key_pair)  # RSA generation is slow: one per run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RemotePeer:
    """One remote server with one Person actor, `https://{domain}/users/{name}` style.

    `neighbour()` adds more actors on the same server (another account, or the server's
    instance actor at `/actor`), served by the same app with their own keys.
    """

    base_url: str
    name: str = "rosa"
    keys: tuple[str, str] = field(default_factory=generate_key_pair)
    received: list[dict[str, Any]] = field(default_factory=list)
    actor_fetches: int = 0
    software: str = ""  # served as NodeInfo's software.name when set
    kind: str = "Person"  # "Group" makes it a remote group local people can follow
    neighbours: dict[str, RemotePeer] = field(default_factory=dict)
    manually_approves: bool = False
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)  # served by path
    fetched: list[str] = field(default_factory=list)  # paths of documents and WebFinger asked for

    @property
    def domain(self) -> str:
        return self.base_url.split("://", 1)[1]

    @property
    def handle(self) -> str:
        return f"{self.name}@{self.domain}"

    def serve_document(self, document: dict[str, Any]) -> None:
        """Serve `document` at its id (which must be on this peer), as AS JSON."""
        assert document["id"].startswith(self.base_url)
        self.documents[document["id"].removeprefix(self.base_url)] = document

    @property
    def actor_id(self) -> str:
        if self.kind == "Application":
            return f"{self.base_url}/actor"
        return f"{self.base_url}/users/{self.name}"

    def neighbour(self, name: str, kind: str = "Person") -> RemotePeer:
        """Another actor on this server; kind "Application" is its instance actor."""
        other = RemotePeer(base_url=self.base_url, name=name, kind=kind, received=self.received)
        self.neighbours[name] = other
        return other

    @property
    def key_id(self) -> str:
        return f"{self.actor_id}#main-key"

    def actor_document(self) -> dict[str, Any]:
        return {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": self.actor_id,
            "type": self.kind,
            "manuallyApprovesFollowers": self.manually_approves,
            "preferredUsername": self.name,
            "inbox": f"{self.actor_id}/inbox",
            "outbox": f"{self.actor_id}/outbox",
            "followers": f"{self.actor_id}/followers",
            "endpoints": {"sharedInbox": f"{self.base_url}/inbox"},
            "publicKey": {"id": self.key_id, "owner": self.actor_id, "publicKeyPem": self.keys[1]},
        }

    def rotate_key(self) -> None:
        self.keys = generate_key_pair()

    def signed_post(self, url: str, activity: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        body = orjson.dumps(activity)
        headers = sign_cavage(
            "POST",
            url,
            {"Content-Type": "application/activity+json"},
            body,
            self.key_id,
            load_private_key(self.keys[0]),
        )
        return body, headers

    def signed_get(self, url: str, *, scheme: str = "cavage") -> dict[str, str]:
        """Headers of a GET signed by this actor, as Mastodon (cavage) or Fedify (9421) sign."""
        sign = sign_rfc9421 if scheme == "rfc9421" else sign_cavage
        headers = {"Accept": "application/activity+json"}
        return sign("GET", url, headers, None, self.key_id, load_private_key(self.keys[0]))

    def activity(self, kind: str, obj: Any, number: int = 1, **extra: Any) -> dict[str, Any]:
        return {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{self.actor_id}/activities/{kind.lower()}-{number}",
            "type": kind,
            "actor": self.actor_id,
            "object": obj,
            **extra,
        }

    def _served(self, path: str) -> RemotePeer | None:
        return next((a for a in (self, *self.neighbours.values()) if a.actor_path == path), None)

    @property
    def actor_path(self) -> str:
        return self.actor_id.removeprefix(self.base_url)

    def app(self) -> Starlette:
        async def actor(request: Request) -> Response:
            served = self._served(request.url.path)
            if served is None:
                return Response(status_code=404)
            served.actor_fetches += 1
            return Response(
                orjson.dumps(served.actor_document()), media_type="application/activity+json"
            )

        async def inbox(request: Request) -> Response:
            self.received.append(orjson.loads(await request.body()))
            return Response(status_code=202)

        async def nodeinfo_links(request: Request) -> Response:
            if not self.software:
                return Response(status_code=404)
            schema = "http://nodeinfo.diaspora.software/ns/schema/2.0"
            links = {"links": [{"rel": schema, "href": f"{self.base_url}/nodeinfo/2.0"}]}
            return Response(orjson.dumps(links), media_type="application/json")

        async def nodeinfo(request: Request) -> Response:
            document = {"version": "2.0", "software": {"name": self.software, "version": "1"}}
            return Response(orjson.dumps(document), media_type="application/json")

        async def webfinger(request: Request) -> Response:
            self.fetched.append(request.url.path)
            if request.query_params.get("resource") != f"acct:{self.handle}":
                return Response(status_code=404)
            link = {"rel": "self", "type": "application/activity+json", "href": self.actor_id}
            jrd = {"subject": f"acct:{self.handle}", "links": [link]}
            return Response(orjson.dumps(jrd), media_type="application/jrd+json")

        async def document(request: Request) -> Response:
            path = request.url.path
            self.fetched.append(path)
            if path not in self.documents:
                return Response(status_code=404)
            body = orjson.dumps(self.documents[path])
            return Response(body, media_type="application/activity+json")

        return Starlette(
            routes=[
                Route("/users/{name}", actor),
                Route("/actor", actor),
                Route("/inbox", inbox, methods=["POST"]),
                Route(f"/users/{self.name}/inbox", inbox, methods=["POST"]),
                Route("/.well-known/nodeinfo", nodeinfo_links),
                Route("/nodeinfo/2.0", nodeinfo),
                Route("/.well-known/webfinger", webfinger),
                Route("/{path:path}", document),
            ]
        )


@contextlib.asynccontextmanager
async def serve_peer(peer_factory: Any = RemotePeer, **options: Any) -> AsyncIterator[RemotePeer]:
    """Run a RemotePeer on a free loopback port for the duration of the block."""
    port = free_port()
    peer = peer_factory(base_url=f"http://127.0.0.1:{port}", **options)
    server = uvicorn.Server(
        uvicorn.Config(peer.app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # uvicorn offers no readiness event  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    try:
        yield peer
    finally:
        server.should_exit = True
        await task


# --- a remote server's inboxes ---------------------------------------------------------------


@dataclass
class Reply:
    """How a Receiver answers an inbox POST."""

    status: int = 202
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # answer this late
    hold: bool = False  # answer only when the test calls release_held() (or at stop)


@dataclass
class Received:
    path: str
    activity: dict[str, Any]
    signer: str
    at: float  # time.monotonic()
    status: int  # what the Receiver answered


class Receiver:
    """A peer's inboxes on 127.0.0.1. Each POST is answered by the next scripted reply for
    its path, else `replies[path]`, else `default`.

    Signatures are checked against `public_keys` (key id -> PEM); with `fetch_keys`, an
    unknown key id is fetched over HTTP from its owner, as a real server would.
    """

    def __init__(
        self, public_keys: dict[str, str], port: int | None = None, *, fetch_keys: bool = False
    ) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.domain = f"127.0.0.1:{self.port}"
        self.public_keys = public_keys  # key id -> public PEM of the actors allowed to sign
        self.fetch_keys = fetch_keys
        self.default = Reply()
        self.replies: dict[str, Reply] = {}
        self.scripts: dict[str, list[Reply]] = {}
        self.received: list[Received] = []
        self.rejected: list[str] = []
        self.in_flight = 0
        self.actors: dict[str, RemotePeer] = {}
        self._shared_inbox: dict[str, bool] = {}
        self._released = asyncio.Event()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    def host(self, name: str, *, shared: bool = True) -> RemotePeer:
        """A Person served here; without `shared`, it has only its personal inbox."""
        actor = RemotePeer(base_url=self.base_url, name=name, keys=shared_key_pair())
        self.actors[name] = actor
        self._shared_inbox[name] = shared
        return actor

    def script(self, path: str, *replies: Reply) -> None:
        """Answer the next POSTs to `path` with `replies`, in turn, then as before."""
        self.scripts.setdefault(path, []).extend(replies)

    def ids(self, path: str | None = None) -> list[str]:
        return [r.activity["id"] for r in self.received if path in (None, r.path)]

    def release_held(self) -> None:
        self._released.set()

    async def _resolve(self, key_id: str, refresh: bool) -> PublicKeyInfo:
        if key_id not in self.public_keys and self.fetch_keys:
            self.public_keys[key_id] = await _fetch_public_key(key_id)
        pem = self.public_keys[key_id]
        key = load_pem_public_key(pem.encode())
        return PublicKeyInfo(key_id, key_id.split("#")[0], key)  # type: ignore[arg-type]

    def _reply_for(self, path: str) -> Reply:
        script = self.scripts.get(path)
        if script:
            return script.pop(0)
        return self.replies.get(path, self.default)

    async def _inbox(self, request: Request) -> Response:
        body = await request.body()
        try:
            verified = await verify_request(
                "POST", str(request.url), request.headers, body, self._resolve
            )
        except (SignatureError, KeyError, httpx.HTTPError) as exc:
            self.rejected.append(str(exc))
            return Response(status_code=401)
        path = request.url.path
        reply = self._reply_for(path)
        self.received.append(
            Received(path, orjson.loads(body), verified.owner, time.monotonic(), reply.status)
        )
        self.in_flight += 1
        try:
            if reply.hold:
                await self._released.wait()
            elif reply.delay:
                with contextlib.suppress(TimeoutError):  # stop() cuts the wait short
                    await asyncio.wait_for(self._released.wait(), reply.delay)
        finally:
            self.in_flight -= 1
        return Response(status_code=reply.status, headers=reply.headers)

    async def _actor(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in self.actors:
            return Response(status_code=404)
        document = self.actors[name].actor_document()
        if not self._shared_inbox[name]:
            del document["endpoints"]
        return Response(orjson.dumps(document), media_type=AP_JSON)

    async def _nodeinfo(self, request: Request) -> Response:
        return Response(b'{"links": []}', media_type="application/json")

    async def start(self) -> None:
        """Listen (again) on this Receiver's port."""
        self._released = asyncio.Event()
        app = Starlette(
            routes=[
                Route("/.well-known/nodeinfo", self._nodeinfo),
                Route("/users/{name}", self._actor),
                Route("/{path:path}", self._inbox, methods=["POST"]),
            ]
        )
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="critical",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        """Close the port: from now on connections are refused, until `start()`."""
        if self._server is None or self._task is None:
            return
        self.release_held()
        self._server.should_exit = True
        await self._task
        self._server = self._task = None


async def _fetch_public_key(key_id: str) -> str:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(key_id.split("#")[0], headers={"Accept": AP_JSON})
    response.raise_for_status()
    key = response.json()["publicKey"]
    if key["id"] != key_id:
        raise KeyError(key_id)
    return str(key["publicKeyPem"])
