"""The test group server's federation: verifying what arrives, acting on it, delivering.

Signatures are made and checked with bovine; each part of the verification can be switched
off by a flaw, so a flawed server differs from a conforming one in that part only.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from bovine.clients.signed_http import SignedHttpClient
from bovine.crypto import generate_rsa_public_private_key
from bovine.crypto.http_signature import HttpSignature
from bovine.crypto.signature import Signature
from bovine.crypto.types import CryptographicIdentifier
from starlette.requests import Request

from tests.conformance.flaws import Flaw

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = f"{AS}#Public"
AP_JSON = "application/activity+json"


class GroupFederation:
    """Mixed into GroupServer, which holds the state these methods use."""

    actor_id: str
    instance_actor_id: str
    keys: tuple[str, str]
    followers: dict[str, dict[str, Any]]
    announces: list[dict[str, Any]]
    reaches_peers: bool

    def has(self, flaw: Flaw) -> bool:
        raise NotImplementedError

    async def fetch(self, url: str) -> dict[str, Any] | None:
        """A GET signed by the server's instance actor, as Mastodon signs all of them."""
        if not self.reaches_peers:
            return None
        key_id = f"{self.instance_actor_id}#main-key"
        async with aiohttp.ClientSession() as session:
            response = await SignedHttpClient(session, key_id, self.keys[1]).get(url)
            async with response:
                return await response.json(content_type=None) if response.status == 200 else None

    async def verify(self, request: Request, body: bytes) -> str | None:
        """The signer's actor id, or None when the request must be refused."""
        header = request.headers.get("signature")
        if header is None:  # the flaw behind guppe-era bugs: an unsigned POST is believed
            trusting = self.has(Flaw.UNSIGNED_POSTS_ACCEPTED)
            return str(json.loads(body).get("actor")) if trusting else None
        parsed = Signature.from_signature_header(header)
        if self.has(Flaw.VALID_POSTS_REFUSED) and "content-length" not in parsed.fields:
            return None
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
        owner = parsed.key_id.split("#")[0]
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
            if not self.has(Flaw.KEEPS_DELETED_ACCOUNTS):
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
