"""A remote fediverse actor for tests: its own key pair, documents, and signed requests.

`serve_peer` runs it as a real HTTP server on a loopback port, so our instance fetches its
actor and key over the wire exactly as from any other server.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedgroups.activitypub.keys import generate_key_pair, load_private_key
from fedgroups.federation.signatures import sign_cavage, sign_rfc9421


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
