"""Our HTTP signatures against code we did not write: Fedify, bovine and Mastodon's own vectors."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from bovine.clients.signed_http import SignedHttpClient, legacy_digest_method_uppercase
from bovine.crypto import build_validate_http_signature_raw
from bovine.crypto.types import CryptographicIdentifier
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from fedgroups.errors import SignatureError
from fedgroups.federation.signatures import (
    PublicKey,
    PublicKeyInfo,
    SchemePreferences,
    VerifiedSignature,
    post_signed,
    sign_cavage,
    sign_rfc9421,
    verify_request,
)

pytestmark = pytest.mark.interop

ROOT = Path(__file__).resolve().parents[2]
FEDIFY = ROOT / "conformance" / "peers" / "fedify"
FEDIFY2 = ROOT / "conformance" / "peers" / "fedify2"
PAYLOADS = ROOT / "tests" / "payloads"
NOW = datetime(2026, 9, 1, 10, 0, 0, tzinfo=UTC)
NOW_ISO = "2026-09-01T10:00:00Z"
DATE = "Tue, 01 Sep 2026 10:00:00 GMT"
ACTIVITY_JSON = "application/activity+json"
INBOX = "https://groups.example/g/recovery/inbox"
OWNER = "https://peer.example/users/rosa"
KEY_ID = OWNER + "#main-key"
BODY = b'{"type":"Follow","actor":"https://peer.example/users/rosa","object":"https://groups.example/g/recovery"}'


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def resolver_for(key: PublicKey, owner: str = OWNER):
    async def resolve(key_id: str, refresh: bool) -> PublicKeyInfo:
        return PublicKeyInfo(key_id=key_id, owner=owner, public_key=key)

    return resolve


# --- Fedify (npm @fedify/fedify, run by node) -----------------------------------------------


def fedify_command(folder: Path) -> list[str]:
    """How to start a peer's sigtool.mjs; skips only when its `npm ci` has not been run."""
    if not (folder / "node_modules" / "@fedify" / "fedify").is_dir():
        pytest.skip(f"Fedify peer not installed: run `npm ci` in {folder.relative_to(ROOT)}")
    bundled = folder / "node_modules" / ".bin" / "node"  # fedify2 brings its own Node 22
    return [str(bundled) if bundled.exists() else "node", "sigtool.mjs"]


def run_fedify(jobs: list[dict[str, Any]], folder: Path = FEDIFY) -> list[dict[str, Any]]:
    """Run a peer's sigtool.mjs once for a batch of jobs."""
    proc = subprocess.run(
        fedify_command(folder),
        cwd=folder,
        input=json.dumps(jobs).encode(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    results = json.loads(proc.stdout)
    assert len(results) == len(jobs)
    assert not [r for r in results if "error" in r], results
    return results


def verify_job(method: str, url: str, headers: dict[str, str], body: bytes, pem: str) -> dict:
    return {
        "op": "verify",
        "method": method,
        "url": url,
        "headers": headers,
        "bodyBase64": base64.b64encode(body).decode(),
        "keyId": KEY_ID,
        "owner": OWNER,
        "publicKeyPem": pem,
        "now": NOW_ISO,
    }


def sign_job(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None,
    pem: str,
    spec: str = "draft-cavage-http-signatures-12",
) -> dict:
    return {
        "op": "sign",
        "spec": spec,
        "method": method,
        "url": url,
        "headers": headers,
        "bodyBase64": None if body is None else base64.b64encode(body).decode(),
        "keyId": KEY_ID,
        "privateKeyPem": pem,
        "now": NOW_ISO,
    }


@dataclass(frozen=True)
class FedifyCase:
    """One request we built and what Fedify must conclude about it."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    verified: bool


def fedify_verify_cases(key: rsa.RSAPrivateKey, other: rsa.RSAPrivateKey) -> dict[str, FedifyCase]:
    post = sign_cavage("POST", INBOX, {}, BODY, KEY_ID, key, now=NOW)
    get = sign_cavage("GET", "https://groups.example/g/recovery", {}, None, KEY_ID, key, now=NOW)
    query = sign_cavage("GET", INBOX + "?page=2", {}, None, KEY_ID, key, now=NOW)
    stale = sign_cavage("POST", INBOX, {}, BODY, KEY_ID, key, now=NOW.replace(hour=8))
    return {
        "cavage POST": FedifyCase("POST", INBOX, post, BODY, True),
        "cavage GET": FedifyCase("GET", "https://groups.example/g/recovery", get, b"", True),
        "tampered body": FedifyCase("POST", INBOX, post, BODY + b" ", False),
        "another path": FedifyCase("POST", INBOX.replace("recovery", "other"), post, BODY, False),
        "another key": FedifyCase(
            "POST", INBOX, sign_cavage("POST", INBOX, {}, BODY, KEY_ID, other, now=NOW), BODY, False
        ),
        "stale Date": FedifyCase("POST", INBOX, stale, BODY, False),
        # Fedify leaves the query out of (request-target): why inbox URLs never carry one.
        "GET with query": FedifyCase("GET", INBOX + "?page=2", query, b"", False),
        # Fedify 1.5 speaks only draft-cavage: why post_signed knocks with cavage first.
        "RFC 9421 POST": FedifyCase(
            "POST", INBOX, sign_rfc9421("POST", INBOX, {}, BODY, KEY_ID, key, now=NOW), BODY, False
        ),
    }


FEDIFY_SIGNED = {
    "POST": ("POST", INBOX, {"Content-Type": "application/activity+json", "Date": DATE}, BODY),
    "GET": ("GET", "https://groups.example/g/recovery", {"Accept": "application/activity+json",
                                                          "Date": DATE}, None),
    "POST with query": ("POST", INBOX + "?via=relay", {"Content-Type": "application/activity+json",
                                                        "Date": DATE}, BODY),
}  # fmt: skip


@pytest.fixture(scope="module")
def fedify(rsa_key, other_rsa_key) -> dict[str, Any]:
    """One node run: Fedify verifies our requests and signs requests for us to verify."""
    cases = fedify_verify_cases(rsa_key, other_rsa_key)
    pem = public_pem(rsa_key)
    jobs = [verify_job(c.method, c.url, c.headers, c.body, pem) for c in cases.values()]
    jobs += [sign_job(*spec, private_pem(rsa_key)) for spec in FEDIFY_SIGNED.values()]
    results = run_fedify(jobs)
    verdicts = dict(zip(cases, results[: len(cases)], strict=True))
    signed = dict(zip(FEDIFY_SIGNED, results[len(cases) :], strict=True))
    return {"cases": cases, "verdicts": verdicts, "signed": signed}


@pytest.mark.parametrize(
    "name",
    ["cavage POST", "cavage GET", "tampered body", "another path", "another key", "stale Date",
     "GET with query", "RFC 9421 POST"],
)  # fmt: skip
def test_fedify_verifies_our_requests(fedify, name) -> None:
    case, verdict = fedify["cases"][name], fedify["verdicts"][name]
    assert verdict["verified"] is case.verified, verdict
    if case.verified:
        assert verdict["keyId"] == KEY_ID


@pytest.mark.parametrize("name", list(FEDIFY_SIGNED))
async def test_we_verify_fedify_signed_requests(fedify, name, rsa_key) -> None:
    signed = fedify["signed"][name]
    body = base64.b64decode(signed["bodyBase64"])
    assert "signature" in signed["headers"] and "signature-input" not in signed["headers"]
    resolve = resolver_for(rsa_key.public_key())
    result = await verify_request(
        signed["method"], signed["url"], signed["headers"], body, resolve, now=NOW
    )
    assert result == VerifiedSignature(key_id=KEY_ID, owner=OWNER, scheme="cavage")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda r: r.update(bodyBase64=base64.b64encode(b'{"type":"Delete"}').decode()),
        lambda r: r.update(url=INBOX.replace("recovery", "other")),
        lambda r: r["headers"].update(date="Tue, 01 Sep 2026 09:59:00 GMT"),
        lambda r: r["headers"].update(host="evil.example"),
        lambda r: r["headers"].update(digest="SHA-256=" + base64.b64encode(b"x" * 32).decode()),
    ],
)
async def test_tampered_fedify_requests_refused(fedify, tamper, rsa_key) -> None:
    signed = json.loads(json.dumps(fedify["signed"]["POST"]))
    tamper(signed)
    with pytest.raises(SignatureError):
        await verify_request(
            signed["method"], signed["url"], signed["headers"],
            base64.b64decode(signed["bodyBase64"]), resolver_for(rsa_key.public_key()), now=NOW,
        )  # fmt: skip


async def test_fedify_signed_request_needs_the_right_key(fedify, other_rsa_key) -> None:
    signed = fedify["signed"]["POST"]
    with pytest.raises(SignatureError):
        await verify_request(
            "POST", signed["url"], signed["headers"], base64.b64decode(signed["bodyBase64"]),
            resolver_for(other_rsa_key.public_key()), now=NOW,
        )  # fmt: skip


# --- Fedify 2 (RFC 9421 and draft-cavage, on Node 22) -------------------------------------


def fedify2_verify_cases(key: rsa.RSAPrivateKey, other: rsa.RSAPrivateKey) -> dict[str, FedifyCase]:
    page = "https://groups.example/g/recovery/outbox?page=2"
    post = sign_rfc9421("POST", INBOX, {}, BODY, KEY_ID, key, now=NOW)
    stale = sign_rfc9421("POST", INBOX, {}, BODY, KEY_ID, key, now=NOW.replace(hour=8))
    foreign = sign_rfc9421("POST", INBOX, {}, BODY, KEY_ID, other, now=NOW)
    return {
        "RFC 9421 POST": FedifyCase("POST", INBOX, post, BODY, True),
        "RFC 9421 GET with query": FedifyCase(
            "GET", page, sign_rfc9421("GET", page, {}, None, KEY_ID, key, now=NOW), b"", True
        ),
        "RFC 9421 other query": FedifyCase(
            "GET", page.replace("2", "3"),
            sign_rfc9421("GET", page, {}, None, KEY_ID, key, now=NOW), b"", False,
        ),
        "RFC 9421 tampered body": FedifyCase("POST", INBOX, post, BODY + b" ", False),
        "RFC 9421 another path": FedifyCase("POST", INBOX + "x", post, BODY, False),
        "RFC 9421 another key": FedifyCase("POST", INBOX, foreign, BODY, False),
        "RFC 9421 stale created": FedifyCase("POST", INBOX, stale, BODY, False),
        "cavage POST": FedifyCase(
            "POST", INBOX, sign_cavage("POST", INBOX, {}, BODY, KEY_ID, key, now=NOW), BODY, True
        ),
    }  # fmt: skip


FEDIFY2_SIGNED = {
    "RFC 9421 POST": ("POST", INBOX, {"Content-Type": ACTIVITY_JSON}, BODY, "rfc9421"),
    "RFC 9421 GET": ("GET", "https://groups.example/g/recovery", {}, None, "rfc9421"),
    "RFC 9421 GET with query": ("GET", INBOX + "?page=2", {}, None, "rfc9421"),
    "cavage POST": ("POST", INBOX, {"Content-Type": ACTIVITY_JSON}, BODY,
                    "draft-cavage-http-signatures-12"),
}  # fmt: skip


@pytest.fixture(scope="module")
def fedify2(rsa_key, other_rsa_key) -> dict[str, Any]:
    """One Node 22 run: Fedify 2 verifies our requests and signs RFC 9421 requests for us."""
    cases = fedify2_verify_cases(rsa_key, other_rsa_key)
    pem = public_pem(rsa_key)
    jobs = [verify_job(c.method, c.url, c.headers, c.body, pem) for c in cases.values()]
    jobs += [sign_job(*spec[:4], private_pem(rsa_key), spec[4]) for spec in FEDIFY2_SIGNED.values()]
    results = run_fedify(jobs, FEDIFY2)
    verdicts = dict(zip(cases, results[: len(cases)], strict=True))
    signed = dict(zip(FEDIFY2_SIGNED, results[len(cases) :], strict=True))
    return {"cases": cases, "verdicts": verdicts, "signed": signed}


@pytest.mark.parametrize(
    "name",
    ["RFC 9421 POST", "RFC 9421 GET with query", "RFC 9421 other query", "RFC 9421 tampered body",
     "RFC 9421 another path", "RFC 9421 another key", "RFC 9421 stale created", "cavage POST"],
)  # fmt: skip
def test_fedify2_verifies_our_requests(fedify2, name) -> None:
    case, verdict = fedify2["cases"][name], fedify2["verdicts"][name]
    assert verdict["verified"] is case.verified, verdict
    if case.verified:
        assert verdict["keyId"] == KEY_ID


@pytest.mark.parametrize("name", list(FEDIFY2_SIGNED))
async def test_we_verify_fedify2_signed_requests(fedify2, name, rsa_key) -> None:
    signed = fedify2["signed"][name]
    scheme = "rfc9421" if "signature-input" in signed["headers"] else "cavage"
    assert scheme == ("cavage" if name.startswith("cavage") else "rfc9421")
    body = base64.b64decode(signed["bodyBase64"])
    resolve = resolver_for(rsa_key.public_key())
    result = await verify_request(
        signed["method"], signed["url"], signed["headers"], body, resolve, now=NOW
    )
    assert result == VerifiedSignature(key_id=KEY_ID, owner=OWNER, scheme=scheme)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda r: r.update(bodyBase64=base64.b64encode(b'{"type":"Delete"}').decode()),
        lambda r: r.update(url=INBOX.replace("recovery", "other")),
        lambda r: r.update(method="PUT"),
        lambda r: r["headers"].update(date="Tue, 01 Sep 2026 09:59:00 GMT"),
        lambda r: r["headers"].update(
            {"signature-input": r["headers"]["signature-input"].replace("1788256800", "1788256801")}
        ),
        lambda r: r["headers"].update({"content-digest": "sha-256=:" + "A" * 43 + "=:"}),
    ],
)
async def test_tampered_fedify2_requests_refused(fedify2, tamper, rsa_key) -> None:
    signed = json.loads(json.dumps(fedify2["signed"]["RFC 9421 POST"]))
    tamper(signed)
    with pytest.raises(SignatureError):
        await verify_request(
            signed["method"], signed["url"], signed["headers"],
            base64.b64decode(signed["bodyBase64"]), resolver_for(rsa_key.public_key()), now=NOW,
        )  # fmt: skip


# --- double-knocking against real Fedify inboxes -------------------------------------------


class FedifyInbox:
    """A remote inbox whose verdicts come from Fedify itself (one node run per request)."""

    def __init__(self, folder: Path, key: rsa.RSAPrivateKey, refuses: str | None = None) -> None:
        self.folder, self.pem, self.refuses = folder, public_pem(key), refuses
        self.seen: list[str] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        scheme = "rfc9421" if "signature-input" in request.headers else "cavage"
        self.seen.append(scheme)
        if scheme == self.refuses:
            return httpx.Response(401)
        job = verify_job(request.method, str(request.url), dict(request.headers), body, self.pem)
        job["now"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        proc = await asyncio.create_subprocess_exec(
            *fedify_command(self.folder), cwd=self.folder,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await proc.communicate(json.dumps([job]).encode())
        return httpx.Response(202 if json.loads(out)[0]["verified"] else 401)


async def knock(inbox: FedifyInbox, prefs: SchemePreferences, key: rsa.RSAPrivateKey) -> int:
    async with httpx.AsyncClient(transport=httpx.MockTransport(inbox)) as client:
        response = await post_signed(client, INBOX, BODY, KEY_ID, key, prefs)
    return response.status_code


async def test_double_knock_to_fedify15_falls_back_to_cavage(rsa_key) -> None:
    # We last saw this origin take RFC 9421; it now runs Fedify 1.5, which knows only cavage.
    inbox, prefs = FedifyInbox(FEDIFY, rsa_key), SchemePreferences()
    prefs.remember(INBOX, "rfc9421")
    assert await knock(inbox, prefs, rsa_key) == 202
    assert inbox.seen == ["rfc9421", "cavage"]
    assert prefs.scheme_for(INBOX) == "cavage"


async def test_double_knock_to_fedify2_upgrades_to_rfc9421(rsa_key) -> None:
    # A peer answering 401 to cavage gets RFC 9421 next, and Fedify 2 checks that retry.
    inbox, prefs = FedifyInbox(FEDIFY2, rsa_key, refuses="cavage"), SchemePreferences()
    assert await knock(inbox, prefs, rsa_key) == 202
    assert inbox.seen == ["cavage", "rfc9421"]
    assert prefs.scheme_for(INBOX) == "rfc9421"
    assert await knock(inbox, prefs, rsa_key) == 202
    assert inbox.seen == ["cavage", "rfc9421", "rfc9421"]


# --- captured requests (Mastodon's spec vectors, Fedify captures) ---------------------------


def captured(folder: str, name: str) -> list[Any]:
    doc = json.loads((PAYLOADS / folder / name).read_text())
    key = load_pem_public_key(doc["public_key_pem"].encode())
    return [
        pytest.param(doc, key, case, id=f"{doc['scheme']}: {case['name']}") for case in doc["cases"]
    ]


CAPTURES = [
    *captured("mastodon", "cavage_requests.json"),
    *captured("mastodon", "rfc9421_requests.json"),
    *captured("fedify", "cavage_requests.json"),
    *captured("fedify", "rfc9421_requests.json"),
]


@pytest.mark.parametrize(("doc", "key", "case"), CAPTURES)
async def test_captured_requests(doc, key, case) -> None:
    request = case["request"]
    now = datetime.fromisoformat(doc["now"].replace("Z", "+00:00"))
    args = (request["method"], request["url"], request["headers"], request["body"].encode())
    resolve = resolver_for(key, doc["owner"])
    if case["valid"]:
        result = await verify_request(*args, resolve, now=now)
        assert result == VerifiedSignature(doc["key_id"], doc["owner"], doc["scheme"])
    else:
        with pytest.raises(SignatureError):
            await verify_request(*args, resolve, now=now)


@pytest.mark.parametrize(("doc", "key", "case"), [c for c in CAPTURES if c.values[2]["valid"]])
async def test_captured_requests_expire(doc, key, case) -> None:
    request = case["request"]
    later = datetime.fromisoformat(doc["now"].replace("Z", "+00:00")).replace(year=2030)
    with pytest.raises(SignatureError):
        await verify_request(
            request["method"], request["url"], request["headers"], request["body"].encode(),
            resolver_for(key, doc["owner"]), now=later,
        )  # fmt: skip


# --- bovine (PyPI) --------------------------------------------------------------------------


class CapturingSession:
    """Stands in for aiohttp.ClientSession so bovine's own request builders run unchanged."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, str], bytes]] = []

    async def post(self, url: str, data: str, headers: dict[str, str]) -> None:
        self.sent.append(("POST", url, headers, data.encode()))

    async def get(self, url: str, headers: dict[str, str], allow_redirects: bool) -> None:
        self.sent.append(("GET", url, headers, b""))


@pytest.mark.parametrize("digest_method", [None, legacy_digest_method_uppercase])
async def test_we_verify_bovine_signed_post(digest_method, rsa_key) -> None:
    session = CapturingSession()
    client = SignedHttpClient(session, KEY_ID, private_pem(rsa_key), digest_method=digest_method)  # type: ignore[arg-type]
    await client.post(INBOX, BODY.decode())
    method, url, headers, body = session.sent[0]
    result = await verify_request(method, url, headers, body, resolver_for(rsa_key.public_key()))
    assert result == VerifiedSignature(KEY_ID, OWNER, "cavage")
    with pytest.raises(SignatureError):
        await verify_request(method, url, headers, body + b" ", resolver_for(rsa_key.public_key()))


async def test_we_verify_bovine_signed_get(rsa_key: rsa.RSAPrivateKey) -> None:
    session = CapturingSession()
    await SignedHttpClient(session, KEY_ID, private_pem(rsa_key)).get(INBOX)  # type: ignore[arg-type]
    method, url, headers, body = session.sent[0]
    assert "accept" in headers["signature"]
    result = await verify_request(method, url, headers, body, resolver_for(rsa_key.public_key()))
    assert result.owner == OWNER
    with pytest.raises(SignatureError):
        await verify_request("GET", INBOX + "x", headers, body, resolver_for(rsa_key.public_key()))


def bovine_validator(key: rsa.RSAPrivateKey):
    async def retrieve(key_id: str) -> CryptographicIdentifier | None:
        return CryptographicIdentifier(controller=OWNER, public_key=key.public_key())

    return build_validate_http_signature_raw(retrieve)


async def bovine_check(key: rsa.RSAPrivateKey, method: str, url: str, headers, body: bytes):
    async def get_body() -> bytes:
        return body

    lowered = {k.lower(): v for k, v in headers.items()}
    return await bovine_validator(key)(method, url, lowered, get_body)


async def test_bovine_verifies_our_cavage_requests(rsa_key, other_rsa_key) -> None:
    post = sign_cavage("POST", INBOX, {}, BODY, KEY_ID, rsa_key)
    assert await bovine_check(rsa_key, "POST", INBOX, post, BODY) == OWNER
    get = sign_cavage("GET", INBOX, {}, None, KEY_ID, rsa_key)
    assert await bovine_check(rsa_key, "GET", INBOX, get, b"") == OWNER
    # bovine must also say no, or its yes would prove nothing.
    assert await bovine_check(rsa_key, "POST", INBOX, post, BODY + b" ") is None
    assert await bovine_check(rsa_key, "POST", INBOX + "2", post, BODY) is None
    other = sign_cavage("POST", INBOX, {}, BODY, KEY_ID, other_rsa_key)
    assert await bovine_check(rsa_key, "POST", INBOX, other, BODY) is None
