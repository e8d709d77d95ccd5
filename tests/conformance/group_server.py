"""A small ActivityPub group server that conforms, except for the flaws a test switches on.

It exists to prove that each conformance check catches what it claims to: with no flaw the
whole suite passes against it, with one flaw exactly the check for it fails. It signs and
verifies with bovine, like the suite's peer, and shares no code with fedgroups.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import uvicorn
from bovine.clients.signed_http import SignedHttpClient
from bovine.crypto import generate_rsa_public_private_key
from bovine.crypto.http_signature import HttpSignature
from bovine.crypto.signature import Signature
from bovine.crypto.types import CryptographicIdentifier
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from tests.peer import free_port

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = f"{AS}#Public"
AP_JSON = "application/activity+json"
NAME = "support"


class Flaw(StrEnum):
    UNSIGNED_POSTS_ACCEPTED = "accepts unsigned posts"
    FORGED_SIGNATURES_ACCEPTED = "accepts signatures it cannot verify"
    STALE_DATES_ACCEPTED = "accepts any Date"
    DIGEST_IGNORED = "ignores the Digest"
    PLAIN_JSON = "serves application/json"
    ID_NOT_URL = "actor id differs from its URL"
    WRONG_KEY_OWNER = "publicKey.owner is not the actor"
    GARBLED_KEY = "publicKeyPem does not parse"
    NO_CORS = "WebFinger without CORS"
    TWO_SELF_LINKS = "WebFinger with two self links"
    NO_NODEINFO_21 = "no NodeInfo 2.1"
    UNCOUNTED_OUTBOX = "outbox without totalItems"
    NO_VARY = "no Vary: Accept"
    FORGETS_ACCEPT = "never sends Accept"
    ACCEPT_BY_ID = "Accept names the Follow by id only"
    NO_ANNOUNCE = "never announces"
    KEEPS_EX_MEMBERS = "ignores Undo Follow"
    IGNORES_DELETE = "ignores the author's Delete"
    BADLY_SIGNED_DELIVERIES = "signs deliveries with a key it does not publish"


@dataclass
class GroupServer:
    """One open group, `NAME`, at `base_url`, with the given flaws."""

    base_url: str
    flaws: frozenset[Flaw] = frozenset()
    keys: tuple[str, str] = field(default_factory=generate_rsa_public_private_key)
    followers: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> actor doc
    announces: list[dict[str, Any]] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def domain(self) -> str:
        return urlsplit(self.base_url).netloc

    @property
    def actor_id(self) -> str:
        return f"{self.base_url}/g/{NAME}"

    def has(self, flaw: Flaw) -> bool:
        return flaw in self.flaws

    # --- documents -------------------------------------------------------------------------

    def actor(self) -> dict[str, Any]:
        key_pem = "garbage" if self.has(Flaw.GARBLED_KEY) else self.keys[0]
        owner = f"{self.base_url}/g/other" if self.has(Flaw.WRONG_KEY_OWNER) else self.actor_id
        return {
            "@context": [AS, "https://w3id.org/security/v1"],
            "id": f"{self.actor_id}/" if self.has(Flaw.ID_NOT_URL) else self.actor_id,
            "type": "Group",
            "preferredUsername": NAME,
            "webfinger": f"{NAME}@{self.domain}",
            "name": "Support",
            "inbox": f"{self.actor_id}/inbox",
            "outbox": f"{self.actor_id}/outbox",
            "followers": f"{self.actor_id}/followers",
            "featured": f"{self.actor_id}/featured",
            "endpoints": {"sharedInbox": f"{self.base_url}/inbox"},
            "manuallyApprovesFollowers": False,
            "publicKey": {"id": f"{self.actor_id}#main-key", "owner": owner,
                          "publicKeyPem": key_pem},
        }  # fmt: skip

    def jrd(self) -> dict[str, Any]:
        link = {"rel": "self", "type": AP_JSON, "href": self.actor_id}
        links = [link, {**link, "href": f"{self.base_url}/u/{NAME}"}]
        return {
            "subject": f"acct:{NAME}@{self.domain}",
            "links": links if self.has(Flaw.TWO_SELF_LINKS) else [link],
        }

    def collection(self, name: str, items: list[Any], paged: bool = True) -> dict[str, Any]:
        url = f"{self.actor_id}/{name}"
        document: dict[str, Any] = {"@context": AS, "id": url, "type": "OrderedCollection",
                                    "totalItems": len(items)}  # fmt: skip
        if name == "outbox" and self.has(Flaw.UNCOUNTED_OUTBOX):
            del document["totalItems"]
        if paged:
            document["first"] = f"{url}?page=1"
        else:
            document["orderedItems"] = items
        return document

    def page(self, name: str, items: list[Any]) -> dict[str, Any]:
        url = f"{self.actor_id}/{name}"
        return {"@context": AS, "id": f"{url}?page=1", "type": "OrderedCollectionPage",
                "partOf": url, "orderedItems": items}  # fmt: skip

    # --- HTTP ------------------------------------------------------------------------------

    def _ap(self, document: dict[str, Any], status: int = 200) -> Response:
        media = "application/json" if self.has(Flaw.PLAIN_JSON) else AP_JSON
        headers = {} if self.has(Flaw.NO_VARY) else {"Vary": "Accept"}
        return Response(json.dumps(document), status, headers, media_type=media)

    async def webfinger(self, request: Request) -> Response:
        resource = request.query_params.get("resource", "")
        if resource not in (f"acct:{NAME}@{self.domain}", self.actor_id):
            return Response(status_code=404)
        headers = {} if self.has(Flaw.NO_CORS) else {"Access-Control-Allow-Origin": "*"}
        return Response(json.dumps(self.jrd()), headers=headers, media_type="application/jrd+json")

    async def host_meta(self, request: Request) -> Response:
        template = f"{self.base_url}/.well-known/webfinger?resource={{uri}}"
        xml = ('<?xml version="1.0" encoding="UTF-8"?><XRD xmlns="http://docs.oasis-open.org/'
               f'ns/xri/xrd-1.0"><Link rel="lrdd" template="{template}"/></XRD>')  # fmt: skip
        return Response(xml, media_type="application/xrd+xml")

    async def nodeinfo_links(self, request: Request) -> Response:
        versions = ["2.0"] if self.has(Flaw.NO_NODEINFO_21) else ["2.0", "2.1"]
        links = [{"rel": f"http://nodeinfo.diaspora.software/ns/schema/{v}",
                  "href": f"{self.base_url}/nodeinfo/{v}"} for v in versions]  # fmt: skip
        return Response(json.dumps({"links": links}), media_type="application/json")

    async def nodeinfo(self, request: Request) -> Response:
        return Response(json.dumps({
            "version": request.path_params["version"],
            "software": {"name": "flawed-groups", "version": "1.0"},
            "protocols": ["activitypub"], "services": {"inbound": [], "outbound": []},
            "openRegistrations": False, "usage": {"users": {"total": 0}}, "metadata": {},
        }), media_type="application/json")  # fmt: skip

    async def actor_endpoint(self, request: Request) -> Response:
        if "json" not in request.headers.get("accept", ""):
            return HTMLResponse("<h1>Support</h1>", headers={"Vary": "Accept"})
        return self._ap(self.actor())

    async def collection_endpoint(self, request: Request) -> Response:
        name = request.path_params["name"]
        items: list[Any] = {
            "outbox": list(reversed(self.announces)),
            "followers": list(self.followers),
            "featured": [],
        }.get(name, [])
        if request.query_params.get("page") == "1":
            return self._ap(self.page(name, items))
        return self._ap(self.collection(name, items, paged=name != "featured"))

    async def inbox(self, request: Request) -> Response:
        body = await request.body()
        activity = json.loads(body)
        signer = await self.verify(request, body)
        if signer is None or signer != activity.get("actor"):
            return Response(status_code=401)
        return Response(status_code=202, background=BackgroundTask(self.process, activity))

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/.well-known/webfinger", self.webfinger),
            Route("/.well-known/host-meta", self.host_meta),
            Route("/.well-known/nodeinfo", self.nodeinfo_links),
            Route("/nodeinfo/{version}", self.nodeinfo),
            Route(f"/g/{NAME}", self.actor_endpoint),
            Route(f"/g/{NAME}/{{name}}", self.collection_endpoint),
            Route(f"/g/{NAME}/inbox", self.inbox, methods=["POST"]),
            Route("/inbox", self.inbox, methods=["POST"]),
        ])  # fmt: skip

    # --- signatures ------------------------------------------------------------------------

    async def fetch(self, url: str) -> dict[str, Any] | None:
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, headers={"Accept": AP_JSON}) as response,
        ):
            return await response.json(content_type=None) if response.status == 200 else None

    async def verify(self, request: Request, body: bytes) -> str | None:
        """The signer's actor id, or None; each check can be switched off by a flaw."""
        header = request.headers.get("signature")
        if header is None:  # the flaw behind guppe-era bugs: an unsigned POST is believed
            trusting = self.has(Flaw.UNSIGNED_POSTS_ACCEPTED)
            return str(json.loads(body).get("actor")) if trusting else None
        parsed = Signature.from_signature_header(header)
        owner = parsed.key_id.split("#")[0]
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        sent_digest = request.headers.get("digest", "").split("=", 1)[-1]
        if sent_digest != digest and not self.has(Flaw.DIGEST_IGNORED):
            return None
        try:
            age = abs(datetime.now(UTC) - parsedate_to_datetime(request.headers["date"]))
        except (KeyError, TypeError, ValueError):
            return None
        if age > timedelta(hours=1) and not self.has(Flaw.STALE_DATES_ACCEPTED):
            return None
        if self.has(Flaw.FORGED_SIGNATURES_ACCEPTED):
            return owner
        actor = await self.fetch(owner)
        if actor is None:
            return None
        identifier = CryptographicIdentifier.from_pem(actor["publicKey"]["publicKeyPem"], owner)
        message = HttpSignature()
        for name in parsed.fields:
            value = (f"{request.method.lower()} {request.url.path}" if name == "(request-target)"
                     else request.headers.get(name, ""))  # fmt: skip
            message.with_field(name, value)
        return message.verify_with_identity(identifier, parsed.signature)

    async def deliver(self, inbox: str, activity: dict[str, Any]) -> None:
        private = self.keys[1]
        if self.has(Flaw.BADLY_SIGNED_DELIVERIES):
            private = generate_rsa_public_private_key()[1]
        async with aiohttp.ClientSession() as session:
            client = SignedHttpClient(session, f"{self.actor_id}#main-key", private)
            response = await client.post(inbox, json.dumps(activity))
            response.release()

    def shared_inboxes(self) -> Iterator[str]:
        seen = set()
        for actor in self.followers.values():
            inbox = (actor.get("endpoints") or {}).get("sharedInbox") or actor["inbox"]
            if inbox not in seen:
                seen.add(inbox)
                yield inbox

    # --- the group -------------------------------------------------------------------------

    async def process(self, activity: dict[str, Any]) -> None:
        kind, inner = activity.get("type"), activity.get("object")
        actor_id = activity["actor"]
        if kind == "Follow":
            await self.follow(activity)
        elif kind == "Undo" and isinstance(inner, dict) and inner.get("type") == "Follow":
            if not self.has(Flaw.KEEPS_EX_MEMBERS):
                self.followers.pop(actor_id, None)
        elif kind == "Create" and isinstance(inner, dict):
            if actor_id in self.followers and not self.has(Flaw.NO_ANNOUNCE):
                await self.announce(actor_id, inner["id"])
        elif kind == "Delete" and inner == actor_id:
            self.followers.pop(actor_id, None)
        elif kind == "Delete" and isinstance(inner, dict) and not self.has(Flaw.IGNORES_DELETE):
            await self.withdraw(inner["id"])

    async def follow(self, activity: dict[str, Any]) -> None:
        member = await self.fetch(activity["actor"])
        if member is None:
            return
        self.followers[activity["actor"]] = member
        if self.has(Flaw.FORGETS_ACCEPT):
            return
        embedded = {key: value for key, value in activity.items() if key != "@context"}
        accept = {
            "@context": AS,
            "id": f"{self.actor_id}#accepts/{len(self.followers)}",
            "type": "Accept",
            "actor": self.actor_id,
            "to": [activity["actor"]],
            "object": activity["id"] if self.has(Flaw.ACCEPT_BY_ID) else embedded,
        }
        await self.deliver(member["inbox"], accept)

    async def announce(self, author: str, note_id: str) -> None:
        number = len(self.announces) + 1
        boost = {"@context": AS, "id": f"{self.actor_id}/announces/{number}", "type": "Announce",
                 "actor": self.actor_id, "to": [PUBLIC], "cc": [f"{self.actor_id}/followers",
                 author], "object": note_id}  # fmt: skip
        self.announces.append(boost)
        for inbox in self.shared_inboxes():
            await self.deliver(inbox, boost)

    async def withdraw(self, note_id: str) -> None:
        for boost in [b for b in self.announces if b["object"] == note_id]:
            self.announces.remove(boost)
            inner = {k: v for k, v in boost.items() if k != "@context"}
            undo = {"@context": AS, "id": f"{boost['id']}/undo", "type": "Undo",
                    "actor": self.actor_id, "to": [PUBLIC], "object": inner}  # fmt: skip
            for inbox in self.shared_inboxes():
                await self.deliver(inbox, undo)


@asynccontextmanager
async def serve_group(*flaws: Flaw):  # type: ignore[no-untyped-def]
    """Run a GroupServer with these flaws on a free loopback port for the block."""
    port = free_port()
    server_state = GroupServer(f"http://127.0.0.1:{port}", frozenset(flaws))
    app = server_state.app()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # uvicorn offers no readiness event  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    try:
        yield server_state
    finally:
        server.should_exit = True
        await task
