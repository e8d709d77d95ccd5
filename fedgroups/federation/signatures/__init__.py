"""HTTP signatures between servers: sign outbound requests and verify inbound ones.

Speaks draft-cavage (what every peer sends) and RFC 9421 (the newer standard), in both
directions; `post_signed` double-knocks between them. The one place that wraps
http-message-signatures: `cavage.py` and `rfc9421.py` hold each scheme, `base.py` what they share.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from fedgroups.errors import SignatureError
from fedgroups.federation.posting import BODY_FRAMING, CappedPoster, CappedReply
from fedgroups.federation.signatures.base import (
    MAX_SIGNATURE_HEADER,
    KeyResolver,
    Plan,
    PublicKey,
    PublicKeyInfo,
    Scheme,
    VerifiedSignature,
    Window,
    body_digest_header,
    content_digest_header,
    host_of,
    normalise,
)
from fedgroups.federation.signatures.cavage import cavage_plan, parse_cavage, sign_cavage
from fedgroups.federation.signatures.rfc9421 import parse_rfc9421, rfc9421_plan, sign_rfc9421

__all__ = [
    "MAX_REPLY_BYTES",
    "MAX_SIGNATURE_HEADER",
    "CappedReply",
    "KeyResolver",
    "Plan",
    "PublicKey",
    "PublicKeyInfo",
    "Scheme",
    "SchemePreferences",
    "VerifiedSignature",
    "authenticate",
    "body_digest_header",
    "content_digest_header",
    "post_signed",
    "sign_cavage",
    "sign_rfc9421",
    "signature_key_id",
    "signature_plan",
    "verify_request",
]


# --- public API: verification --------------------------------------------------------------


def signature_key_id(method: str, url: str, headers: Mapping[str, str]) -> str:
    """The keyId a request claims, so callers can look up (and rate-limit) the signer early."""
    normal = normalise(headers)
    if "signature-input" in normal:
        return str(parse_rfc9421(normal).params["keyid"])
    return parse_cavage(normal.get("signature"))["keyId"]


async def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    resolve_key: KeyResolver,
    *,
    now: datetime | None = None,
    max_age: timedelta = timedelta(hours=1),
    max_future: timedelta = timedelta(hours=1),
) -> VerifiedSignature:
    """Authenticate an inbound request or raise SignatureError (401).

    All structural checks (coverage, digest, time) run before the resolver is called, so
    junk never makes us fetch anything. KeyUnavailable from the resolver propagates (503).
    """
    window = Window(now or datetime.now(UTC), max_age, max_future)
    return await authenticate(signature_plan(method, url, headers, body, window), resolve_key)


def signature_plan(
    method: str, url: str, headers: Mapping[str, str], body: bytes, window: Window | None = None
) -> Plan:
    """Every structural check of an inbound signature (coverage, digest, time), or
    SignatureError; what is left is the key lookup and the cryptography (`authenticate`).
    The window defaults to one hour either side of now.
    """
    normal = normalise(headers)
    normal.setdefault("host", host_of(url))
    window = window or Window(datetime.now(UTC), timedelta(hours=1), timedelta(hours=1))
    if "signature-input" in normal:
        return rfc9421_plan(method, url, normal, body, window)
    return cavage_plan(method, url, normal, body, window)


async def authenticate(plan: Plan, resolve_key: KeyResolver) -> VerifiedSignature:
    """Try the cached key, then exactly one refreshed key (the signer may have rotated it)."""
    for refresh in (False, True):
        info = await resolve_key(plan.key_id, refresh)
        if plan.matches(info.public_key):
            return VerifiedSignature(key_id=plan.key_id, owner=info.owner, scheme=plan.scheme)
    raise SignatureError("signature does not verify")


# --- public API: sending with double-knocking -----------------------------------------------


@functools.lru_cache(maxsize=4096)
def _origin(url: str) -> str:
    """scheme://host:port of a URL; kept per URL, since a fan-out asks it twice a delivery."""
    parts = urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme, 0)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


class SchemePreferences:
    """Remembers, per peer origin, which signature scheme it accepted last time."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._schemes: dict[str, Scheme] = {}
        self._max_entries = max_entries

    def scheme_for(self, url: str) -> Scheme:
        """Cavage until a peer proves it wants RFC 9421: every server speaks cavage."""
        return self._schemes.get(_origin(url), "cavage")

    def remember(self, url: str, scheme: Scheme) -> None:
        origin = _origin(url)
        self._schemes.pop(origin, None)
        if len(self._schemes) >= self._max_entries:
            self._schemes.pop(next(iter(self._schemes)))
        self._schemes[origin] = scheme


_SIGNERS = {"cavage": sign_cavage, "rfc9421": sign_rfc9421}
_OTHER: dict[Scheme, Scheme] = {"cavage": "rfc9421", "rfc9421": "cavage"}
_RETRY_STATUSES = frozenset({400, 401})
MAX_REPLY_BYTES = 4 * 1024  # of a peer's reply body: enough for an error text (T71c)


async def post_signed(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    key_id: str,
    private_key: RSAPrivateKey,
    prefs: SchemePreferences,
    *,
    extra_headers: Mapping[str, str] | None = None,
) -> CappedReply:
    """POST `body` signed; on 400/401 knock again with the other scheme, remember the winner.

    The reply's body is cut at MAX_REPLY_BYTES, undecoded: a peer answering with an endless
    or compressed body (T71c, T34) costs us a few KiB, not memory until the deadline.
    A delivery client (`CappedPoster`) sends through its direct path; any other httpx
    client through its ordinary one.
    """
    scheme = prefs.scheme_for(url)
    response = await _post_with(client, scheme, url, body, key_id, private_key, extra_headers)
    if response.status_code in _RETRY_STATUSES:
        scheme = _OTHER[scheme]
        response = await _post_with(client, scheme, url, body, key_id, private_key, extra_headers)
    if response.status_code not in _RETRY_STATUSES:
        prefs.remember(url, scheme)
    return response


async def _post_with(
    client: httpx.AsyncClient,
    scheme: Scheme,
    url: str,
    body: bytes,
    key_id: str,
    private_key: RSAPrivateKey,
    extra_headers: Mapping[str, str] | None,
) -> CappedReply:
    headers = _SIGNERS[scheme]("POST", url, extra_headers or {}, body, key_id, private_key)
    if isinstance(client, CappedPoster):
        return await client.post_capped(url, body, headers, MAX_REPLY_BYTES)
    async with client.stream("POST", url, content=body, headers=headers) as response:
        kept = await _capped_body(response)  # leaving the block drops what was left unread
    unframed = [(k, v) for k, v in response.headers.multi_items() if k not in BODY_FRAMING]
    return CappedReply(response.status_code, httpx.Headers(unframed), kept)


async def _capped_body(response: httpx.Response) -> bytes:
    """The first MAX_REPLY_BYTES of the body as sent (still compressed, if it was)."""
    if response.is_stream_consumed:  # an in-memory transport already holds it all
        return response.content[:MAX_REPLY_BYTES]
    kept = bytearray()
    async for chunk in response.aiter_raw():
        kept += chunk[: MAX_REPLY_BYTES - len(kept)]
        if len(kept) >= MAX_REPLY_BYTES:
            break
    return bytes(kept)
