"""HTTP signatures made and checked by bovine (PyPI), never by the instance under test.

Valid requests go through bovine's own `SignedHttpClient`. Faulty ones (unsigned, forged,
stale, wrong digest) are built from bovine's signing primitives with one thing broken, so
the only difference from a request the instance must accept is the fault itself.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from enum import StrEnum
from urllib.parse import urlsplit

from bovine.clients.signed_http import SignedHttpClient, legacy_digest_method_uppercase
from bovine.crypto import build_validate_http_signature_raw, generate_rsa_public_private_key
from bovine.crypto.http_signature import build_signature
from bovine.crypto.types import CryptographicIdentifier, CryptographicSecret

from conformance.http import Fetched, Http

ACTIVITY_JSON = "application/activity+json"
# Mastodon refuses a Date more than ~65 minutes old, Lemmy and Fedify more than 1 hour
# [M app/lib/signed_request.rb matches_time_window?; AF EXPIRES_AFTER]: two hours is stale
# everywhere, with room for clock skew.
STALE_BY = timedelta(hours=2)


class Fault(StrEnum):
    """What is wrong with a request; the value completes "a Follow with ..."."""

    NONE = "a valid signature"
    UNSIGNED = "no signature"
    FORGED = "a forged signature"
    STALE_DATE = "a Date two hours old"
    WRONG_DIGEST = "a Digest of other bytes"


@dataclass(frozen=True)
class KeyPair:
    public_pem: str
    private_pem: str

    @classmethod
    def generate(cls) -> KeyPair:
        public_pem, private_pem = generate_rsa_public_private_key()
        return cls(public_pem, private_pem)


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _digest(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def faulty_post_headers(
    url: str, body: bytes, key_id: str, private_pem: str, forger_pem: str, fault: Fault
) -> dict[str, str]:
    """Headers of a POST that a conforming inbox must refuse, for one named fault."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    now = datetime.now(UTC)
    date = _http_date(now - STALE_BY if fault is Fault.STALE_DATE else now)
    digest = _digest(body + b"\n" if fault is Fault.WRONG_DIGEST else body)
    helper = (
        build_signature(parts.netloc, "post", target)
        .with_field("date", date)
        .with_field("digest", digest)
        .with_field("content-type", ACTIVITY_JSON)
    )
    headers = dict(helper.headers)
    if fault is Fault.UNSIGNED:
        return headers
    pem = forger_pem if fault is Fault.FORGED else private_pem
    headers["signature"] = helper.sign_for_http_draft(CryptographicSecret.from_pem(key_id, pem))
    return headers


class Signer:
    """Signs as one actor through bovine's client, over the suite's aiohttp session."""

    def __init__(self, http: Http, key_id: str, private_pem: str) -> None:
        self.http = http
        self.client = SignedHttpClient(
            http.session, key_id, private_pem, digest_method=legacy_digest_method_uppercase
        )

    async def post(self, url: str, body: bytes) -> Fetched:
        response = await self.client.post(url, body.decode(), content_type=ACTIVITY_JSON)
        return await self.http.wrap("POST", url, response)

    async def get(self, url: str) -> Fetched:
        response = await self.client.get(url)
        return await self.http.wrap("GET", url, response)


def public_key_of(document: dict[str, object], key_id: str) -> tuple[str, str] | None:
    """(PEM, owner) of `key_id` from an actor document or a standalone key document."""
    candidates: list[object] = [document]
    keys = document.get("publicKey")
    candidates.extend(keys if isinstance(keys, list) else [keys])
    for key in candidates:
        if isinstance(key, dict) and key.get("id") == key_id and "publicKeyPem" in key:
            return str(key["publicKeyPem"]), str(key.get("owner", ""))
    return None


def delivery_verifier(fetch_key):  # type: ignore[no-untyped-def]
    """bovine's verifier for requests the instance sends to the peer; returns the key owner.

    `fetch_key(key_id)` returns the (PEM, owner) pair or None.
    """

    async def retrieve(key_id: str) -> CryptographicIdentifier | None:
        found = await fetch_key(key_id)
        return None if found is None else CryptographicIdentifier.from_pem(*found)

    return build_validate_http_signature_raw(retrieve)
