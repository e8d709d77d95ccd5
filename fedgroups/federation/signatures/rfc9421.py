"""RFC 9421 HTTP Message Signatures, through the http-message-signatures library."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from http_message_signatures import (
    HTTPMessageSigner,
    algorithms,
)
from http_message_signatures.exceptions import HTTPMessageSignaturesException
from http_message_signatures.exceptions import InvalidSignature as HMSInvalidSignature

from fedgroups.errors import SignatureError
from fedgroups.federation.signatures.base import (
    RFC9421_LABEL,
    CryptoOnlyVerifier,
    FixedKeyResolver,
    Message,
    Plan,
    PublicKey,
    Window,
    base_headers,
    from_epoch,
    needs_digest,
    parse_sf_dictionary,
    required_header,
    verify_content_digest,
)

# --- RFC 9421 ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rfc9421Input:
    components: list[str]
    params: dict[str, Any]


def parse_rfc9421(headers: dict[str, str]) -> _Rfc9421Input:
    """Exactly one signature, with a component list, created and keyid."""
    inputs = parse_sf_dictionary(headers.get("signature-input"), "Signature-Input")
    signatures = parse_sf_dictionary(headers.get("signature"), "Signature")
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
    if needs_digest(method, body) and "content-digest" not in covered:
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


def _rfc9421_check(key: PublicKey, alg: object, message: Message) -> bool:
    algorithm = _rfc9421_algorithm(key, alg)
    if algorithm is None:
        return False
    verifier = CryptoOnlyVerifier(signature_algorithm=algorithm, key_resolver=FixedKeyResolver(key))
    try:
        verifier.verify(message, max_age=None)
    except (HMSInvalidSignature, HTTPMessageSignaturesException):
        return False
    return True


def rfc9421_plan(
    method: str, url: str, headers: dict[str, str], body: bytes, window: Window
) -> Plan:
    sig = parse_rfc9421(headers)
    _require_rfc9421_coverage(sig, method, url, headers, body)
    if "content-digest" in headers or needs_digest(method, body):
        verify_content_digest(required_header(headers, "content-digest"), body)
    window.check(from_epoch(sig.params["created"], "created"), "created")
    if "expires" in sig.params:
        window.check_expires(from_epoch(sig.params["expires"], "expires"))
    message = Message(method.upper(), url, headers)
    alg = sig.params.get("alg")
    return Plan(sig.params["keyid"], "rfc9421", lambda key: _rfc9421_check(key, alg, message))


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
    message = Message(method.upper(), url, base_headers(url, headers, body, moment))
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.RSA_V1_5_SHA256,
        key_resolver=FixedKeyResolver(private_key),
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
