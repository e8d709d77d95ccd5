"""draft-cavage-http-signatures-12: what every fediverse server sends, parsed, checked, signed."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from fedgroups.errors import SignatureError
from fedgroups.federation.signatures.base import (
    MAX_SIGNATURE_HEADER,
    Plan,
    PublicKey,
    Window,
    base_headers,
    body_digest_header,
    from_epoch,
    needs_digest,
    parse_http_date,
    request_targets,
    required_header,
    strict_b64,
    verify_digest_header,
)

# --- draft-cavage --------------------------------------------------------------------------


_CAVAGE_PARAMS = frozenset({"keyId", "algorithm", "headers", "signature", "created", "expires"})
_CAVAGE_ALGORITHMS = frozenset({"rsa-sha256", "hs2019"})
_CAVAGE_PARAM = re.compile(r'\s*([A-Za-z]+)=(?:"([^"\\]*)"|(\d+))\s*(?:,|$)')
_LEGACY_PREFIX = re.compile(r"^signature\s+", re.IGNORECASE)


def parse_cavage(value: str | None) -> dict[str, str]:
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
    if needs_digest(method, body) and "digest" not in names:
        raise SignatureError("signature does not cover the digest")
    pseudo = {"(created)", "(expires)"} & set(names)
    if pseudo and (params.get("algorithm") or "").lower() == "rsa-sha256":
        raise SignatureError("(created) and (expires) need hs2019")
    for name in pseudo:
        if name.strip("()") not in params:
            raise SignatureError(f"{name} is covered but missing")


def _check_cavage_times(
    names: list[str], params: dict[str, str], headers: dict[str, str], window: Window
) -> None:
    if "date" in names:
        if "date" not in headers:
            raise SignatureError("Date header missing")
        window.check(parse_http_date(headers["date"]), "Date")
    if "created" in params:
        window.check(from_epoch(params["created"], "created"), "created")
    if "expires" in params:
        window.check_expires(from_epoch(params["expires"], "expires"))


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
    for target in request_targets(method, url):
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


def cavage_plan(
    method: str, url: str, headers: dict[str, str], body: bytes, window: Window
) -> Plan:
    params = parse_cavage(headers.get("signature"))
    names = _covered_names(params)
    _require_cavage_coverage(names, params, method, body)
    if "digest" in headers or needs_digest(method, body):
        verify_digest_header(required_header(headers, "digest"), body)
    _check_cavage_times(names, params, headers, window)
    strings = _cavage_strings(names, params, method, url, headers)
    signature = strict_b64(params["signature"], "signature")
    algorithm = (params.get("algorithm") or "").lower() or None

    def matches(key: PublicKey) -> bool:
        return any(_cavage_check(key, algorithm, signature, s) for s in strings)

    return Plan(params["keyId"], "cavage", matches)


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
    out = base_headers(url, headers, body, now)
    names = ["(request-target)", "host", "date"]
    if body is not None:
        out["Digest"] = body_digest_header(body)
        names += ["digest", "content-type"]
    values = {name.lower(): value for name, value in out.items()}
    values["(request-target)"] = request_targets(method, url)[0]
    lines = [f"{name}: {values[name]}" for name in names]
    raw = private_key.sign("\n".join(lines).encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    out["Signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}",'
        f'signature="{base64.b64encode(raw).decode("ascii")}"'
    )
    return out
