"""HTTP signatures between servers: sign outbound requests and verify inbound ones.

Speaks draft-cavage (what every peer sends) and RFC 9421 (the newer standard), in both directions.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, Literal, cast
from urllib.parse import urlsplit

import http_sf
import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    algorithms,
)
from http_message_signatures.exceptions import HTTPMessageSignaturesException
from http_message_signatures.exceptions import InvalidSignature as HMSInvalidSignature

from fedgroups.errors import SignatureError

Scheme = Literal["cavage", "rfc9421"]
PublicKey = RSAPublicKey | Ed25519PublicKey

ACTIVITY_JSON = "application/activity+json"
MAX_SIGNATURE_HEADER = 8 * 1024
RFC9421_LABEL = "sig1"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_CAVAGE_PARAMS = frozenset({"keyId", "algorithm", "headers", "signature", "created", "expires"})
_CAVAGE_ALGORITHMS = frozenset({"rsa-sha256", "hs2019"})
_CAVAGE_PARAM = re.compile(r'\s*([A-Za-z]+)=(?:"([^"\\]*)"|(\d+))\s*(?:,|$)')
_LEGACY_PREFIX = re.compile(r"^signature\s+", re.IGNORECASE)
_DIGESTS: dict[str, Callable[[bytes], bytes]] = {
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
class _Plan:
    """A request that passed every structural check; only the cryptography is left to run."""

    key_id: str
    scheme: Scheme
    matches: Callable[[PublicKey], bool]


@dataclass
class _Message:
    """The requests-like view http-message-signatures reads components from."""

    method: str
    url: str
    headers: dict[str, str]


class _FixedKeyResolver(HTTPSignatureKeyResolver):
    """Hands the library exactly the key we chose, whatever keyid it asks for."""

    def __init__(self, key: Any) -> None:
        self.key = key

    def resolve_public_key(self, key_id: str) -> Any:
        return self.key

    def resolve_private_key(self, key_id: str) -> Any:
        return self.key


class _CryptoOnlyVerifier(HTTPMessageVerifier):
    """The time window was already checked against the caller's clock, so skip the library's."""

    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        return None


# --- digests -------------------------------------------------------------------------------


def body_digest_header(body: bytes) -> str:
    """The draft-cavage `Digest` value; Mastodon and Lemmy insist on SHA-256."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def content_digest_header(body: bytes) -> str:
    """The RFC 9530 `Content-Digest` value that RFC 9421 signatures cover."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def _check_digests(found: dict[str, bytes], body: bytes) -> None:
    """Every digest we understand must match, and SHA-256 must be among them."""
    if "sha-256" not in found:
        raise SignatureError("digest lacks SHA-256")
    for algorithm, value in found.items():
        if not hmac.compare_digest(value, _DIGESTS[algorithm](body)):
            raise SignatureError("digest does not match the body")


def _verify_digest_header(value: str, body: bytes) -> None:
    """Check a cavage `Digest` list against the exact body bytes."""
    found: dict[str, bytes] = {}
    for item in value.split(","):
        algorithm, sep, encoded = item.strip().partition("=")
        if not sep:
            raise SignatureError("malformed Digest header")
        if algorithm.lower() in _DIGESTS:
            found[algorithm.lower()] = _strict_b64(encoded, "Digest")
    _check_digests(found, body)


def _verify_content_digest(value: str, body: bytes) -> None:
    """Check an RFC 9530 `Content-Digest` dictionary against the exact body bytes."""
    found: dict[str, bytes] = {}
    for algorithm, (member, _params) in _parse_dictionary(value, "Content-Digest").items():
        if algorithm in _DIGESTS:
            if not isinstance(member, bytes):
                raise SignatureError("malformed Content-Digest header")
            found[algorithm] = member
    _check_digests(found, body)


def _dup(key: str, context: str) -> None:
    """Repeated keys in a structured header are an ambiguity an attacker could exploit."""
    raise ValueError(f"duplicate key {key!r} in {context}")


def _strict_b64(value: str, what: str) -> bytes:
    """Refuse sloppy base64 so two parsers can never read different bytes."""
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError(f"malformed base64 in {what}") from exc


# --- small helpers ---------------------------------------------------------------------------


def _normalise(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-case names; repeated fields are joined the way HTTP folds them."""
    multi = getattr(headers, "multi_items", None)
    items = multi() if callable(multi) else headers.items()
    out: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def _required(headers: dict[str, str], name: str) -> str:
    if name not in headers:
        raise SignatureError(f"{name} header missing")
    return headers[name]


def _without(headers: Mapping[str, str], *names: str) -> dict[str, str]:
    """Copy headers, dropping the given names in any letter case."""
    drop = {name.lower() for name in names}
    return {k: v for k, v in headers.items() if k.lower() not in drop}


def _has(headers: Mapping[str, str], name: str) -> bool:
    return any(k.lower() == name.lower() for k in headers)


def _http_date(now: datetime) -> str:
    """RFC 7231 IMF-fixdate, the only Date form every peer parses."""
    return format_datetime(now.astimezone(UTC), usegmt=True)


def _parse_http_date(value: str) -> datetime:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError) as exc:
        raise SignatureError("unparsable Date header") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _from_epoch(value: int | str, what: str) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise SignatureError(f"malformed {what}") from exc


@dataclass(frozen=True)
class _Window:
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


def _needs_digest(method: str, body: bytes) -> bool:
    """A body, or a method that carries one, must be bound to the signature by a digest."""
    return bool(body) or method.upper() in _BODY_METHODS


def _host_of(url: str) -> str:
    """The Host header value for a URL: its authority without userinfo."""
    return urlsplit(url).netloc.rpartition("@")[2]


def _request_targets(method: str, url: str) -> list[str]:
    """`(request-target)` with the query, then without it (senders disagree on the query)."""
    parts = urlsplit(url)
    path = parts.path or "/"
    targets = [f"{method.lower()} {path}?{parts.query}"] if parts.query else []
    return [*targets, f"{method.lower()} {path}"]


# --- draft-cavage --------------------------------------------------------------------------


def _parse_cavage(value: str | None) -> dict[str, str]:
    """Parse `key="value"` pairs strictly: duplicates, unknown keys or odd quoting are refused."""
    if value is None:
        raise SignatureError("request is not signed")
    if len(value) > MAX_SIGNATURE_HEADER:
        raise SignatureError("Signature header too large")
    text = _LEGACY_PREFIX.sub("", value.strip())
    params: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        match = _CAVAGE_PARAM.match(text, pos)
        if match is None or match.end() == pos:
            raise SignatureError("malformed Signature header")
        name = match.group(1)
        if name in params:
            raise SignatureError(f"duplicate {name} in Signature header")
        if name not in _CAVAGE_PARAMS:
            raise SignatureError(f"unknown {name} in Signature header")
        params[name] = match.group(2) if match.group(2) is not None else match.group(3)
        pos = match.end()
    return _check_cavage_params(params, text)


def _check_cavage_params(params: dict[str, str], text: str) -> dict[str, str]:
    if text.endswith(","):
        raise SignatureError("malformed Signature header")
    for required in ("keyId", "signature"):
        if not params.get(required):
            raise SignatureError(f"Signature header lacks {required}")
    algorithm = params.get("algorithm")
    if algorithm is not None and algorithm.lower() not in _CAVAGE_ALGORITHMS:
        raise SignatureError("unsupported signature algorithm")
    return params


def _covered_names(params: dict[str, str]) -> list[str]:
    """The `headers` list, lower-cased; absent means `(created)` as draft-cavage says."""
    names = params.get("headers", "(created)").lower().split()
    if not names or len(set(names)) != len(names):
        raise SignatureError("malformed headers list in Signature header")
    return names


def _require_cavage_coverage(
    names: list[str], params: dict[str, str], method: str, body: bytes
) -> None:
    """A signature that covers too little proves too little (target, host, time, body)."""
    for required in ("(request-target)", "host"):
        if required not in names:
            raise SignatureError(f"signature does not cover {required}")
    if "date" not in names and "(created)" not in names:
        raise SignatureError("signature covers neither date nor (created)")
    if _needs_digest(method, body) and "digest" not in names:
        raise SignatureError("signature does not cover the digest")
    pseudo = {"(created)", "(expires)"} & set(names)
    if pseudo and (params.get("algorithm") or "").lower() == "rsa-sha256":
        raise SignatureError("(created) and (expires) need hs2019")
    for name in pseudo:
        if name.strip("()") not in params:
            raise SignatureError(f"{name} is covered but missing")


def _check_cavage_times(
    names: list[str], params: dict[str, str], headers: dict[str, str], window: _Window
) -> None:
    if "date" in names:
        if "date" not in headers:
            raise SignatureError("Date header missing")
        window.check(_parse_http_date(headers["date"]), "Date")
    if "created" in params:
        window.check(_from_epoch(params["created"], "created"), "created")
    if "expires" in params:
        window.check_expires(_from_epoch(params["expires"], "expires"))


def _cavage_strings(
    names: list[str], params: dict[str, str], method: str, url: str, headers: dict[str, str]
) -> list[bytes]:
    """Every signing string a legitimate sender could have produced (with/without query)."""
    fixed: dict[str, str] = {}
    for name in names:
        if name in ("(created)", "(expires)"):
            fixed[name] = params[name.strip("()")]
        elif name != "(request-target)":
            if name not in headers:
                raise SignatureError(f"signed header {name} is missing")
            fixed[name] = headers[name]
    strings = []
    for target in _request_targets(method, url):
        lines = [f"{n}: {target if n == '(request-target)' else fixed[n]}" for n in names]
        strings.append("\n".join(lines).encode("utf-8"))
    return strings


def _cavage_check(key: PublicKey, algorithm: str | None, signature: bytes, message: bytes) -> bool:
    """Verify with the algorithm the stored key dictates; the request's label only narrows it."""
    try:
        if isinstance(key, RSAPublicKey):
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
            return True
        if isinstance(key, Ed25519PublicKey) and algorithm != "rsa-sha256":
            key.verify(signature, message)
            return True
    except InvalidSignature:
        return False
    return False


def _cavage_plan(
    method: str, url: str, headers: dict[str, str], body: bytes, window: _Window
) -> _Plan:
    params = _parse_cavage(headers.get("signature"))
    names = _covered_names(params)
    _require_cavage_coverage(names, params, method, body)
    if "digest" in headers or _needs_digest(method, body):
        _verify_digest_header(_required(headers, "digest"), body)
    _check_cavage_times(names, params, headers, window)
    strings = _cavage_strings(names, params, method, url, headers)
    signature = _strict_b64(params["signature"], "signature")
    algorithm = (params.get("algorithm") or "").lower() or None

    def matches(key: PublicKey) -> bool:
        return any(_cavage_check(key, algorithm, signature, s) for s in strings)

    return _Plan(params["keyId"], "cavage", matches)


# --- RFC 9421 ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rfc9421Input:
    components: list[str]
    params: dict[str, Any]


def _parse_dictionary(value: str | None, what: str) -> dict[str, Any]:
    if value is None:
        raise SignatureError(f"{what} header missing")
    if len(value) > MAX_SIGNATURE_HEADER:
        raise SignatureError(f"{what} header too large")
    try:
        parsed = http_sf.parse(value.encode("ascii"), tltype="dictionary", on_duplicate_key=_dup)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise SignatureError(f"malformed {what} header") from exc
    return cast(dict[str, Any], parsed)


def _parse_rfc9421(headers: dict[str, str]) -> _Rfc9421Input:
    """Exactly one signature, with a component list, created and keyid."""
    inputs = _parse_dictionary(headers.get("signature-input"), "Signature-Input")
    signatures = _parse_dictionary(headers.get("signature"), "Signature")
    if len(inputs) != 1 or inputs.keys() != signatures.keys():
        raise SignatureError("expected exactly one RFC 9421 signature")
    members, params = next(iter(inputs.values()))
    signature = next(iter(signatures.values()))[0]
    if not isinstance(members, list) or not isinstance(signature, bytes):
        raise SignatureError("malformed RFC 9421 signature")
    if type(params.get("created")) is not int or not isinstance(params.get("keyid"), str):
        raise SignatureError("RFC 9421 signature lacks created or keyid")
    if "expires" in params and type(params["expires"]) is not int:
        raise SignatureError("malformed expires")
    components = [str(item) for item, item_params in members if not item_params]
    return _Rfc9421Input(components, dict(params))


def _require_rfc9421_coverage(
    sig: _Rfc9421Input, method: str, url: str, headers: dict[str, str], body: bytes
) -> None:
    """Method and full target must be signed, plus the body digest when there is a body."""
    covered = set(sig.components)
    if "@method" not in covered:
        raise SignatureError("signature does not cover @method")
    if "@target-uri" not in covered:
        if not {"@authority", "@path"} <= covered:
            raise SignatureError("signature does not cover the target URI")
        if urlsplit(url).query and "@query" not in covered:
            raise SignatureError("signature does not cover the query")
    if _needs_digest(method, body) and "content-digest" not in covered:
        raise SignatureError("signature does not cover content-digest")
    for name in covered:
        if not name.startswith("@") and name not in headers:
            raise SignatureError(f"signed header {name} is missing")


def _rfc9421_algorithm(
    key: PublicKey, alg: object
) -> type[algorithms.HTTPSignatureAlgorithm] | None:
    """The stored key's type picks the family; `alg` may only choose within it."""
    if isinstance(key, RSAPublicKey):
        if alg in (None, "rsa-v1_5-sha256"):
            return algorithms.RSA_V1_5_SHA256
        return algorithms.RSA_PSS_SHA512 if alg == "rsa-pss-sha512" else None
    if isinstance(key, Ed25519PublicKey) and alg in (None, "ed25519"):
        return algorithms.ED25519
    return None


def _rfc9421_check(key: PublicKey, alg: object, message: _Message) -> bool:
    algorithm = _rfc9421_algorithm(key, alg)
    if algorithm is None:
        return False
    verifier = _CryptoOnlyVerifier(
        signature_algorithm=algorithm, key_resolver=_FixedKeyResolver(key)
    )
    try:
        verifier.verify(message, max_age=None)
    except (HMSInvalidSignature, HTTPMessageSignaturesException):
        return False
    return True


def _rfc9421_plan(
    method: str, url: str, headers: dict[str, str], body: bytes, window: _Window
) -> _Plan:
    sig = _parse_rfc9421(headers)
    _require_rfc9421_coverage(sig, method, url, headers, body)
    if "content-digest" in headers or _needs_digest(method, body):
        _verify_content_digest(_required(headers, "content-digest"), body)
    window.check(_from_epoch(sig.params["created"], "created"), "created")
    if "expires" in sig.params:
        window.check_expires(_from_epoch(sig.params["expires"], "expires"))
    message = _Message(method.upper(), url, headers)
    alg = sig.params.get("alg")
    return _Plan(sig.params["keyid"], "rfc9421", lambda key: _rfc9421_check(key, alg, message))


# --- public API: verification --------------------------------------------------------------


def signature_key_id(method: str, url: str, headers: Mapping[str, str]) -> str:
    """The keyId a request claims, so callers can look up (and rate-limit) the signer early."""
    normal = _normalise(headers)
    if "signature-input" in normal:
        return str(_parse_rfc9421(normal).params["keyid"])
    return _parse_cavage(normal.get("signature"))["keyId"]


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
    normal = _normalise(headers)
    normal.setdefault("host", _host_of(url))
    window = _Window(now or datetime.now(UTC), max_age, max_future)
    if "signature-input" in normal:
        plan = _rfc9421_plan(method, url, normal, body, window)
    else:
        plan = _cavage_plan(method, url, normal, body, window)
    return await _authenticate(plan, resolve_key)


async def _authenticate(plan: _Plan, resolve_key: KeyResolver) -> VerifiedSignature:
    """Try the cached key, then exactly one refreshed key (the signer may have rotated it)."""
    for refresh in (False, True):
        info = await resolve_key(plan.key_id, refresh)
        if plan.matches(info.public_key):
            return VerifiedSignature(key_id=plan.key_id, owner=info.owner, scheme=plan.scheme)
    raise SignatureError("signature does not verify")


# --- public API: signing -------------------------------------------------------------------


def _base_headers(
    url: str, headers: Mapping[str, str], body: bytes | None, now: datetime
) -> dict[str, str]:
    """Given headers plus Host, Date and, for bodies, Content-Type when the caller left them out."""
    out = _without(headers, "signature", "signature-input", "digest", "content-digest")
    if not _has(out, "host"):
        out["Host"] = _host_of(url)
    if not _has(out, "date"):
        out["Date"] = _http_date(now)
    if body is not None and not _has(out, "content-type"):
        out["Content-Type"] = ACTIVITY_JSON
    return out


def _lookup(headers: Mapping[str, str], name: str) -> str:
    return next(v for k, v in headers.items() if k.lower() == name)


def sign_cavage(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key: RSAPrivateKey,
    *,
    now: datetime | None = None,
) -> dict[str, str]:
    """Sign the way Mastodon, Lemmy and Fedify all verify; returns every header to send."""
    out = _base_headers(url, headers, body, now or datetime.now(UTC))
    names = ["(request-target)", "host", "date"]
    if body is not None:
        out["Digest"] = body_digest_header(body)
        names += ["digest", "content-type"]
    target = _request_targets(method, url)[0]
    lines = [f"{n}: {target if n == '(request-target)' else _lookup(out, n)}" for n in names]
    raw = private_key.sign("\n".join(lines).encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    out["Signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}",'
        f'signature="{base64.b64encode(raw).decode("ascii")}"'
    )
    return out


def sign_rfc9421(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key: RSAPrivateKey,
    *,
    now: datetime | None = None,
) -> dict[str, str]:
    """Sign as Mastodon 4.5+ verifies RFC 9421: @method, @target-uri and the Content-Digest."""
    moment = now or datetime.now(UTC)
    message = _Message(method.upper(), url, _base_headers(url, headers, body, moment))
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.RSA_V1_5_SHA256,
        key_resolver=_FixedKeyResolver(private_key),
    )
    try:
        signer.sign(
            message,
            key_id=key_id,
            created=moment,
            label=RFC9421_LABEL,
            covered_component_ids=("@method", "@target-uri"),
            body=body,
        )
    except HTTPMessageSignaturesException as exc:
        raise SignatureError(f"cannot sign request: {exc}") from exc
    return message.headers


# --- public API: sending with double-knocking -----------------------------------------------


def _origin(url: str) -> str:
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
# Describe the body as it came off the wire; the capped copy we return is neither.
_BODY_FRAMING = frozenset({"content-encoding", "content-length", "transfer-encoding"})


async def post_signed(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    key_id: str,
    private_key: RSAPrivateKey,
    prefs: SchemePreferences,
    *,
    extra_headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """POST `body` signed; on 400/401 knock again with the other scheme, remember the winner.

    The reply's body is cut at MAX_REPLY_BYTES, undecoded: a peer answering with an endless
    or compressed body (T71c, T34) costs us a few KiB, not memory until the deadline.
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
) -> httpx.Response:
    headers = _SIGNERS[scheme]("POST", url, extra_headers or {}, body, key_id, private_key)
    async with client.stream("POST", url, content=body, headers=headers) as response:
        kept = await _capped_body(response)  # leaving the block drops what was left unread
    return httpx.Response(
        response.status_code,
        headers=[(k, v) for k, v in response.headers.multi_items() if k not in _BODY_FRAMING],
        content=kept,
        request=response.request,
    )


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
