"""A small ActivityPub group server that conforms, except for the flaws a test switches on.

It exists to prove that each conformance check catches what it claims to: with no flaw the
whole suite passes against it, with one flaw the check for it is the first to fail. It signs
and verifies with bovine, like the suite's peer, and shares no code with fedgroups.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import uvicorn
from bovine.crypto import generate_rsa_public_private_key
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from tests.conformance.flaws import Flaw
from tests.conformance.group_federation import AP_JSON, AS, GroupFederation
from tests.peer import free_port

NAME = "support"
JRD = "application/jrd+json"
INSTANCE = "instance"  # the preferredUsername of the server's Application actor
SECURITY = "https://w3id.org/security/v1"
WEBFINGER = "https://purl.archive.org/socialweb/webfinger"
EXTENSIONS = {"manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
              "toot": "http://joinmastodon.org/ns#", "featured": "toot:featured",
              "discoverable": "toot:discoverable", "indexable": "toot:indexable"}  # fmt: skip


@dataclass
class GroupServer(GroupFederation):
    """One open group, `NAME`, at `base_url`, with the given flaws."""

    base_url: str
    flaws: frozenset[Flaw] = frozenset()
    keys: tuple[str, str] = field(default_factory=generate_rsa_public_private_key)
    followers: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> actor doc
    announces: list[dict[str, Any]] = field(default_factory=list)
    reaches_peers: bool = True  # False: behind a firewall, every fetch of a peer fails

    @property
    def domain(self) -> str:
        return urlsplit(self.base_url).netloc

    @property
    def actor_id(self) -> str:  # type: ignore[override]
        return f"{self.base_url}/g/{NAME}"

    @property
    def instance_actor_id(self) -> str:  # type: ignore[override]
        return f"{self.base_url}/actor"

    def has(self, flaw: Flaw) -> bool:
        return flaw in self.flaws

    # --- documents -------------------------------------------------------------------------

    def actor(self) -> dict[str, Any]:
        contexts: list[Any] = [AS, SECURITY, WEBFINGER, EXTENSIONS]
        if self.has(Flaw.NO_AS_CONTEXT):
            contexts.remove(AS)
        if self.has(Flaw.UNDEFINED_TERMS):
            contexts.remove(EXTENSIONS)
        key_id = (
            f"{self.actor_id}/key"
            if self.has(Flaw.DANGLING_KEY_ID)
            else f"{self.actor_id}#main-key"
        )
        document = {
            "@context": contexts,
            "id": f"{self.actor_id}/" if self.has(Flaw.ID_NOT_URL) else self.actor_id,
            "type": "Person" if self.has(Flaw.PERSON_TYPE) else "Group",
            "preferredUsername": f"{NAME}_circle" if self.has(Flaw.USERNAME_NOT_HANDLE) else NAME,
            "webfinger": f"{NAME}@{self.domain}",
            "name": "Support",
            "inbox": f"{self.actor_id}/inbox",
            "outbox": f"{self.actor_id}/outbox",
            "followers": f"{self.actor_id}/followers",
            "following": f"{self.actor_id}/following",
            "featured": f"{self.actor_id}/featured",
            "attributedTo": f"{self.actor_id}/moderators",
            "endpoints": {"sharedInbox": f"{self.base_url}/inbox"},
            "manuallyApprovesFollowers": False,
            "discoverable": False,
            "indexable": False,
            "publicKey": {
                "id": key_id,
                "owner": f"{self.base_url}/g/other"
                if self.has(Flaw.WRONG_KEY_OWNER)
                else self.actor_id,
                "publicKeyPem": "garbage" if self.has(Flaw.GARBLED_KEY) else self.keys[0],
            },
        }
        for flaw, key in ((Flaw.NO_OUTBOX, "outbox"), (Flaw.NO_MODERATORS, "attributedTo"),
                          (Flaw.NO_WEBFINGER_PROPERTY, "webfinger")):  # fmt: skip
            if self.has(flaw):
                del document[key]
        return document

    def instance_actor(self) -> dict[str, Any]:
        key = {"id": f"{self.instance_actor_id}#main-key", "owner": self.instance_actor_id,
               "publicKeyPem": self.keys[0]}  # fmt: skip
        return {"@context": [AS, SECURITY], "id": self.instance_actor_id, "type": "Application",
                "preferredUsername": INSTANCE, "inbox": f"{self.base_url}/inbox",
                "publicKey": key}  # fmt: skip

    def jrd(self, resource: str) -> dict[str, Any]:
        if resource == f"acct:{INSTANCE}@{self.domain}":
            link = {"rel": "self", "type": AP_JSON, "href": self.instance_actor_id}
            return {"subject": resource, "links": [link]}
        link = {"rel": "self", "type": AP_JSON, "href": self.actor_id}
        links = [link, {**link, "href": f"{self.base_url}/u/{NAME}"}]
        return {
            "subject": f"acct:{NAME}@{self.domain}",
            "links": links if self.has(Flaw.TWO_SELF_LINKS) else [link],
        }

    def collection(self, name: str) -> dict[str, Any]:
        url = f"{self.actor_id}/{name}"
        items = self.items(name)
        document: dict[str, Any] = {"@context": AS, "id": url, "type": "OrderedCollection",
                                    "totalItems": len(items)}  # fmt: skip
        if name == "featured":
            document["orderedItems"] = items
            document["totalItems"] += 1 if self.has(Flaw.FEATURED_MISCOUNTED) else 0
            return document
        document["first"] = f"{url}?page=1"
        if name == "outbox" and self.has(Flaw.UNCOUNTED_OUTBOX):
            del document["totalItems"]
        if name == "followers" and self.has(Flaw.FOLLOWERS_COUNT_AS_TEXT):
            document["totalItems"] = str(len(items))
        if name == "followers" and self.has(Flaw.FOLLOWERS_UNCOUNTED):
            document["totalItems"] = 0
        return document

    def items(self, name: str) -> list[Any]:
        if name == "outbox" and not self.has(Flaw.OUTBOX_OMITS_ANNOUNCES):
            return list(reversed(self.announces))
        return list(self.followers) if name == "followers" else []

    # --- HTTP ------------------------------------------------------------------------------

    def _ap(self, document: dict[str, Any], status: int = 200) -> Response:
        media = "application/json" if self.has(Flaw.PLAIN_JSON) else AP_JSON
        headers = {} if self.has(Flaw.NO_VARY) else {"Vary": "Accept"}
        return Response(json.dumps(document), status, headers, media_type=media)

    async def webfinger(self, request: Request) -> Response:
        raw = dict(p.split("=", 1) for p in request.url.query.split("&") if "=" in p)
        resource = raw.get("resource", "")
        resource = resource if self.has(Flaw.WEBFINGER_RAW_ONLY) else unquote(resource)
        if not resource.startswith(("acct:", "http")) and not self.has(Flaw.WEBFINGER_NEVER_400):
            return Response(status_code=400)
        if not self.has(Flaw.WEBFINGER_CASE_SENSITIVE):
            resource = resource.lower() if resource.startswith("acct:") else resource
        known = [f"acct:{NAME}@{self.domain}"]
        if not self.has(Flaw.SIGNER_NOT_WEBFINGERABLE):
            known.append(f"acct:{INSTANCE}@{self.domain}")
        if not self.has(Flaw.WEBFINGER_ACCT_ONLY):
            known.append(self.actor_id)
        if resource not in known and not self.has(Flaw.WEBFINGER_ANSWERS_ANYONE):
            return Response(status_code=404)
        headers = {} if self.has(Flaw.NO_CORS) else {"Access-Control-Allow-Origin": "*"}
        media = "application/json" if self.has(Flaw.WEBFINGER_PLAIN_JSON) else JRD
        return Response(json.dumps(self.jrd(resource)), headers=headers, media_type=media)

    async def host_meta(self, request: Request) -> Response:
        if self.has(Flaw.NO_HOST_META):
            return Response(status_code=404)
        template = f"{self.base_url}/.well-known/webfinger?resource={{uri}}"
        xml = ('<?xml version="1.0" encoding="UTF-8"?><XRD xmlns="http://docs.oasis-open.org/'
               f'ns/xri/xrd-1.0"><Link rel="lrdd" template="{template}"/></XRD>')  # fmt: skip
        return Response(xml, media_type="application/xrd+xml")

    async def nodeinfo_links(self, request: Request) -> Response:
        if self.has(Flaw.NO_NODEINFO):
            return Response(status_code=404)
        versions = ["2.0"] if self.has(Flaw.NO_NODEINFO_21) else ["2.0", "2.1"]
        links = [{"rel": f"http://nodeinfo.diaspora.software/ns/schema/{v}",
                  "href": f"{self.base_url}/nodeinfo/{v}"} for v in versions]  # fmt: skip
        return Response(json.dumps({"links": links}), media_type="application/json")

    async def nodeinfo(self, request: Request) -> Response:
        name = "Flawed Groups" if self.has(Flaw.NODEINFO_BAD_NAME) else "flawed-groups"
        return Response(json.dumps({
            "version": request.path_params["version"],
            "software": {"name": name, "version": "1.0"},
            "protocols": ["activitypub"], "services": {"inbound": [], "outbound": []},
            "openRegistrations": False, "usage": {"users": {"total": 0}}, "metadata": {},
        }), media_type="application/json")  # fmt: skip

    def _refuses_signed(self, request: Request, collection: bool) -> bool:
        if "signature" not in request.headers:
            return False
        return self.has(Flaw.SIGNED_GETS_REFUSED) or (
            collection and self.has(Flaw.SIGNED_COLLECTION_GETS_REFUSED)
        )

    async def instance_actor_endpoint(self, request: Request) -> Response:
        return self._ap(self.instance_actor())

    async def actor_endpoint(self, request: Request) -> Response:
        if self._refuses_signed(request, collection=False):
            return Response(status_code=401)
        accept = request.headers.get("accept", "")
        wanted = "activity+json" if self.has(Flaw.LD_ACCEPT_GETS_HTML) else "json"
        if wanted not in accept and not self.has(Flaw.NO_HTML):
            return HTMLResponse("<h1>Support</h1>", headers={"Vary": "Accept"})
        return self._ap(self.actor())

    async def collection_endpoint(self, request: Request) -> Response:
        if self._refuses_signed(request, collection=True):
            return Response(status_code=401)
        name = request.path_params["name"]
        if name not in ("outbox", "followers", "following", "featured", "moderators"):
            return Response(status_code=404)
        if request.query_params.get("page") != "1":
            return self._ap(self.collection(name))
        url = f"{self.actor_id}/{name}"
        return self._ap({"@context": AS, "id": f"{url}?page=1", "type": "OrderedCollectionPage",
                         "partOf": url, "orderedItems": self.items(name)})  # fmt: skip

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
            Route("/actor", self.instance_actor_endpoint),
            Route(f"/g/{NAME}", self.actor_endpoint),
            Route(f"/g/{NAME}/{{name}}", self.collection_endpoint),
            Route(f"/g/{NAME}/inbox", self.inbox, methods=["POST"]),
            Route("/inbox", self.inbox, methods=["POST"]),
        ])  # fmt: skip


@asynccontextmanager
async def serve_group(*flaws: Flaw, reaches_peers: bool = True) -> AsyncIterator[GroupServer]:
    """Run a GroupServer with these flaws on a free loopback port for the block."""
    port = free_port()
    group = GroupServer(f"http://127.0.0.1:{port}", frozenset(flaws), reaches_peers=reaches_peers)
    config = uvicorn.Config(group.app(), host="127.0.0.1", port=port, log_level="warning",
                            lifespan="off")  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # uvicorn offers no readiness event  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    try:
        yield group
    finally:
        server.should_exit = True
        await task
