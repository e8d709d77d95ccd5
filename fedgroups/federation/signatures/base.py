"""What both signature schemes share: key and result types, digests, headers and clocks."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, formatdate, parsedate_to_datetime
from typing import Any, Literal, cast
from urllib.parse import urlsplit

import http_sf
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from http_message_signatures import (
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
)

from fedgroups.errors import SignatureError

Scheme = Literal["cavage", "rfc9421"]
PublicKey = RSAPublicKey | Ed25519PublicKey

ACTIVITY_JSON = "application/activity+json"
MAX_SIGNATURE_HEADER = 8 * 1024
RFC9421_LABEL = "sig1"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
DIGESTS: dict[str, Callable[[bytes], bytes]] = {
    "sha-256": lambda data: hashlib.sha256(data).digest(),
    "sha-512": lambda data: hashlib.sha512(data).digest(),
}


@dataclass(frozen=True)
class PublicKeyInfo:
    """What a key resolver hands back: the key and the actor that claims it."""

    key_id: str
    owner: str
    public_key: PublicKey


@dataclass(frozen=True)
class VerifiedSignature:
    """Proof that a request was signed by `owner`'s key; callers bind it to the activity actor."""

    key_id: str
    owner: str
    scheme: Scheme


KeyResolver = Callable[[str, bool], Awaitable[PublicKeyInfo]]


@dataclass(frozen=True)
class Plan:
    """A request that passed every structural check; only the cryptography is left to run."""

    key_id: str
    scheme: Scheme
    matches: Callable[[PublicKey], bool]


@dataclass
class Message:
    """The requests-like view http-message-signatures reads components from."""

    method: str
    url: str
    headers: dict[str, str]


class FixedKeyResolver(HTTPSignatureKeyResolver):
    """Hands the library exactly the key we chose, whatever keyid it asks for."""

    def __init__(self, key: Any) -> None:
        self.key = key

    def resolve_public_key(self, key_id: str) -> Any:
        return self.key

    def resolve_private_key(self, key_id: str) -> Any:
        return self.key


class CryptoOnlyVerifier(HTTPMessageVerifier):
    """The time window was already checked against the caller's clock, so skip the library's."""

    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        return None


# --- digests -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def body_digest_header(body: bytes) -> str:
    """The draft-cavage `Digest` value; Mastodon and Lemmy insist on SHA-256.

    Every recipient of an activity gets the same body, so the last few digests are kept.
    """
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def content_digest_header(body: bytes) -> str:
    """The RFC 9530 `Content-Digest` value that RFC 9421 signatures cover."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def check_digests(found: dict[str, bytes], body: bytes) -> None:
    """Every digest we understand must match, and SHA-256 must be among them."""
    if "sha-256" not in found:
        raise SignatureError("digest lacks SHA-256")
    for algorithm, value in found.items():
        if not hmac.compare_digest(value, DIGESTS[algorithm](body)):
            raise SignatureError("digest does not match the body")


def verify_digest_header(value: str, body: bytes) -> None:
    """Check a cavage `Digest` list against the exact body bytes."""
    found: dict[str, bytes] = {}
    for item in value.split(","):
        algorithm, sep, encoded = item.strip().partition("=")
        if not sep:
            raise SignatureError("malformed Digest header")
        if algorithm.lower() in DIGESTS:
            found[algorithm.lower()] = strict_b64(encoded, "Digest")
    check_digests(found, body)


def verify_content_digest(value: str, body: bytes) -> None:
    """Check an RFC 9530 `Content-Digest` dictionary against the exact body bytes."""
    found: dict[str, bytes] = {}
    for algorithm, (member, _params) in parse_sf_dictionary(value, "Content-Digest").items():
        if algorithm in DIGESTS:
            if not isinstance(member, bytes):
                raise SignatureError("malformed Content-Digest header")
            found[algorithm] = member
    check_digests(found, body)


def duplicate_parameter(key: str, context: str) -> None:
    """Repeated keys in a structured header are an ambiguity an attacker could exploit."""
    raise ValueError(f"duplicate key {key!r} in {context}")


def strict_b64(value: str, what: str) -> bytes:
    """Refuse sloppy base64 so two parsers can never read different bytes."""
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError(f"malformed base64 in {what}") from exc


# --- small helpers ---------------------------------------------------------------------------


def normalise(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-case names; repeated fields are joined the way HTTP folds them."""
    multi = getattr(headers, "multi_items", None)
    items = multi() if callable(multi) else headers.items()
    out: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def required_header(headers: dict[str, str], name: str) -> str:
    if name not in headers:
        raise SignatureError(f"{name} header missing")
    return headers[name]


def without_headers(headers: Mapping[str, str], *names: str) -> dict[str, str]:
    """Copy headers, dropping the given names in any letter case."""
    drop = {name.lower() for name in names}
    return {k: v for k, v in headers.items() if k.lower() not in drop}


def has_header(headers: Mapping[str, str], name: str) -> bool:
    return any(k.lower() == name.lower() for k in headers)


def http_date(now: datetime) -> str:
    """RFC 7231 IMF-fixdate, the only Date form every peer parses."""
    return format_datetime(now.astimezone(UTC), usegmt=True)


_current_date: tuple[int, str] = (0, "")


def current_http_date() -> str:
    """`http_date` of the current second, formatted once per second (a Date has no finer
    resolution, and formatting cost as much as the rest of a signature's headers)."""
    global _current_date
    second = int(time.time())
    if _current_date[0] != second:
        _current_date = (second, formatdate(second, usegmt=True))
    return _current_date[1]


def parse_http_date(value: str) -> datetime:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError) as exc:
        raise SignatureError("unparsable Date header") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def from_epoch(value: int | str, what: str) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise SignatureError(f"malformed {what}") from exc


@dataclass(frozen=True)
class Window:
    """The accepted time span for a signature's Date or created stamp."""

    now: datetime
    max_age: timedelta
    max_future: timedelta

    def check(self, when: datetime, what: str) -> None:
        if when < self.now - self.max_age:
            raise SignatureError(f"{what} is too old")
        if when > self.now + self.max_future:
            raise SignatureError(f"{what} is in the future")

    def check_expires(self, when: datetime) -> None:
        if when < self.now:
            raise SignatureError("signature has expired")


def needs_digest(method: str, body: bytes) -> bool:
    """A body, or a method that carries one, must be bound to the signature by a digest."""
    return bool(body) or method.upper() in BODY_METHODS


@functools.lru_cache(maxsize=4096)
def host_of(url: str) -> str:
    """The Host header value for a URL: its authority without userinfo (kept per URL: every
    delivery to an inbox signs it)."""
    return urlsplit(url).netloc.rpartition("@")[2]


def request_targets(method: str, url: str) -> list[str]:
    """`(request-target)` with the query, then without it (senders disagree on the query)."""
    parts = urlsplit(url)
    path = parts.path or "/"
    targets = [f"{method.lower()} {path}?{parts.query}"] if parts.query else []
    return [*targets, f"{method.lower()} {path}"]


# --- public API: signing -------------------------------------------------------------------


def base_headers(
    url: str, headers: Mapping[str, str], body: bytes | None, now: datetime | None
) -> dict[str, str]:
    """Given headers plus Host, Date and, for bodies, Content-Type when the caller left them out.

    `now` None: the current second's Date.
    """
    out = without_headers(headers, "signature", "signature-input", "digest", "content-digest")
    given = {name.lower() for name in out}
    if "host" not in given:
        out["Host"] = host_of(url)
    if "date" not in given:
        out["Date"] = current_http_date() if now is None else http_date(now)
    if body is not None and "content-type" not in given:
        out["Content-Type"] = ACTIVITY_JSON
    return out


def lookup_header(headers: Mapping[str, str], name: str) -> str:
    return next(v for k, v in headers.items() if k.lower() == name)


def parse_sf_dictionary(value: str | None, what: str) -> dict[str, Any]:
    if value is None:
        raise SignatureError(f"{what} header missing")
    if len(value) > MAX_SIGNATURE_HEADER:
        raise SignatureError(f"{what} header too large")
    try:
        parsed = http_sf.parse(
            value.encode("ascii"), tltype="dictionary", on_duplicate_key=duplicate_parameter
        )
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise SignatureError(f"malformed {what} header") from exc
    return cast(dict[str, Any], parsed)
