"""Unit tests for fedgroups.federation.signatures: round trips and every refusal rule."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver, algorithms
from starlette.datastructures import Headers as StarletteHeaders

from fedgroups.errors import KeyUnavailable, SignatureError
from fedgroups.federation.signatures import (
    MAX_REPLY_BYTES,
    MAX_SIGNATURE_HEADER,
    PublicKey,
    PublicKeyInfo,
    SchemePreferences,
    VerifiedSignature,
    body_digest_header,
    content_digest_header,
    post_signed,
    sign_cavage,
    sign_rfc9421,
    signature_key_id,
    verify_request,
)
from fedgroups.federation.signatures import base as signatures_base

NOW = datetime(2026, 9, 1, 10, 0, 0, tzinfo=UTC)
INBOX = "https://groups.example/g/recovery/inbox"
OUTBOX = "https://groups.example/g/recovery/outbox?page=2"
OWNER = "https://peer.example/users/rosa"
KEY_ID = OWNER + "#main-key"
BODY = b'{"type":"Follow","actor":"https://peer.example/users/rosa"}'


@pytest.fixture(scope="module")
def ed_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


@dataclass
class Resolver:
    """Serves `first` on a normal lookup and `refreshed` (default: the same) on refresh."""

    first: PublicKey
    refreshed: PublicKey | None = None
    calls: list[tuple[str, bool]] = field(default_factory=list)

    async def __call__(self, key_id: str, refresh: bool) -> PublicKeyInfo:
        self.calls.append((key_id, refresh))
        key = self.refreshed if refresh and self.refreshed is not None else self.first
        return PublicKeyInfo(key_id=key_id, owner=OWNER, public_key=key)


async def verify(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    key: PublicKey,
    **kwargs: object,
) -> VerifiedSignature:
    kwargs.setdefault("now", NOW)
    return await verify_request(method, url, headers, body, Resolver(key), **kwargs)  # type: ignore[arg-type]


def cavage(
    key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey,
    names: list[str],
    headers: dict[str, str],
    *,
    target: str = "post /g/recovery/inbox",
    params: str = 'algorithm="rsa-sha256"',
    created: int | None = None,
    expires: int | None = None,
) -> dict[str, str]:
    """An independent, deliberately flexible cavage signer for crafting odd requests."""
    lower = {k.lower(): v for k, v in headers.items()}
    values = {"(request-target)": target, "(created)": str(created), "(expires)": str(expires)}
    text = "\n".join(f"{n}: {values[n] if n in values else lower[n]}" for n in names).encode()
    if isinstance(key, rsa.RSAPrivateKey):
        raw = key.sign(text, padding.PKCS1v15(), hashes.SHA256())
    else:
        raw = key.sign(text)
    parts = [f'keyId="{KEY_ID}"', params, f'headers="{" ".join(names)}"']
    parts += [f"{k}={v}" for k, v in (("created", created), ("expires", expires)) if v]
    parts.append(f'signature="{base64.b64encode(raw).decode()}"')
    return {**headers, "Signature": ",".join(p for p in parts if p)}


def post_headers(body: bytes = BODY, date: datetime = NOW) -> dict[str, str]:
    return {
        "Host": "groups.example",
        "Date": date.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "Digest": body_digest_header(body),
        "Content-Type": "application/activity+json",
    }


POST_NAMES = ["(request-target)", "host", "date", "digest", "content-type"]


class _Msg:
    def __init__(self, method: str, url: str, headers: dict[str, str]) -> None:
        self.method, self.url, self.headers = method, url, headers


class _Keys(HTTPSignatureKeyResolver):
    def __init__(self, key: object) -> None:
        self.key = key

    def resolve_private_key(self, key_id: str) -> object:
        return self.key


def rfc9421(
    key: object,
    method: str = "POST",
    url: str = INBOX,
    body: bytes | None = BODY,
    *,
    algorithm: type[algorithms.HTTPSignatureAlgorithm] = algorithms.RSA_V1_5_SHA256,
    components: tuple[str, ...] = ("@method", "@target-uri"),
    created: datetime = NOW,
    expires: datetime | None = None,
    label: str = "sig1",
) -> dict[str, str]:
    """RFC 9421 signing straight through the library, for variants sign_rfc9421 never makes."""
    msg = _Msg(method, url, {"Host": "groups.example"})
    HTTPMessageSigner(signature_algorithm=algorithm, key_resolver=_Keys(key)).sign(
        msg,
        key_id=KEY_ID,
        created=created,
        expires=expires,
        label=label,
        covered_component_ids=components,
        body=body,
    )
    return msg.headers


# --- digests -------------------------------------------------------------------------------


def test_digest_headers_match_known_values() -> None:
    # Values from Mastodon's spec suite and RFC 9530's example.
    assert (
        body_digest_header(b"Hello world") == "SHA-256=ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw="
    )
    assert content_digest_header(b'{"hello": "world"}') == (
        "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    )


# --- signing output ------------------------------------------------------------------------


def test_sign_cavage_post_layout(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = sign_cavage(
        "POST", INBOX, {"User-Agent": "fedgroups/0.1"}, BODY, KEY_ID, rsa_key, now=NOW
    )
    assert headers["Host"] == "groups.example"
    assert headers["Date"] == "Tue, 01 Sep 2026 10:00:00 GMT"
    assert headers["Digest"] == body_digest_header(BODY)
    assert headers["Content-Type"] == "application/activity+json"
    assert headers["User-Agent"] == "fedgroups/0.1"
    sig = headers["Signature"]
    assert sig.startswith(f'keyId="{KEY_ID}",algorithm="rsa-sha256",')
    assert 'headers="(request-target) host date digest content-type"' in sig
    text = (
        "(request-target): post /g/recovery/inbox\nhost: groups.example\n"
        f"date: {headers['Date']}\ndigest: {headers['Digest']}\n"
        "content-type: application/activity+json"
    ).encode()
    raw = base64.b64decode(sig.split('signature="')[1].rstrip('"'))
    rsa_key.public_key().verify(raw, text, padding.PKCS1v15(), hashes.SHA256())


def test_sign_cavage_get_signs_query_and_no_digest(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = sign_cavage("GET", OUTBOX, {}, None, KEY_ID, rsa_key, now=NOW)
    assert "Digest" not in headers and "Content-Type" not in headers
    assert 'headers="(request-target) host date"' in headers["Signature"]
    text = (
        "(request-target): get /g/recovery/outbox?page=2\n"
        f"host: groups.example\ndate: {headers['Date']}"
    )
    raw = base64.b64decode(headers["Signature"].split('signature="')[1].rstrip('"'))
    rsa_key.public_key().verify(raw, text.encode(), padding.PKCS1v15(), hashes.SHA256())


def test_sign_cavage_keeps_given_date_and_content_type(rsa_key: rsa.RSAPrivateKey) -> None:
    given = {"date": "Mon, 31 Aug 2026 10:00:00 GMT", "content-type": "application/ld+json"}
    headers = sign_cavage("POST", INBOX, given, BODY, KEY_ID, rsa_key, now=NOW)
    assert headers["date"] == given["date"] and "Date" not in headers
    assert headers["content-type"] == "application/ld+json" and "Content-Type" not in headers


async def test_sign_cavage_dates_the_current_second(
    rsa_key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without `now` the Date is the clock's current second, formatted once per second."""
    clock = [NOW.timestamp() + 0.25]
    monkeypatch.setattr(signatures_base.time, "time", lambda: clock[0])
    first = sign_cavage("POST", INBOX, {}, BODY, KEY_ID, rsa_key)
    assert first["Date"] == "Tue, 01 Sep 2026 10:00:00 GMT"
    clock[0] += 0.5
    assert sign_cavage("POST", INBOX, {}, BODY, KEY_ID, rsa_key)["Date"] == first["Date"]
    clock[0] += 1
    later = sign_cavage("POST", INBOX, {}, BODY, KEY_ID, rsa_key)
    assert later["Date"] == "Tue, 01 Sep 2026 10:00:01 GMT"
    resolver = Resolver(rsa_key.public_key())
    verified = await verify_request("POST", INBOX, later, BODY, resolver, now=NOW)
    assert verified.key_id == KEY_ID


def test_body_digest_is_the_same_for_an_equal_body() -> None:
    assert body_digest_header(bytes(BODY)) == body_digest_header(BODY)
    assert body_digest_header(BODY + b" ") != body_digest_header(BODY)


def test_sign_rfc9421_layout(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = sign_rfc9421("POST", INBOX, {"Signature": "stale"}, BODY, KEY_ID, rsa_key, now=NOW)
    assert headers["Content-Digest"] == content_digest_header(BODY)
    assert headers["Signature-Input"] == (
        'sig1=("@method" "@target-uri" "content-digest");'
        f'created={int(NOW.timestamp())};keyid="{KEY_ID}";alg="rsa-v1_5-sha256"'
    )
    assert headers["Signature"].startswith("sig1=:") and "keyId" not in headers["Signature"]
    assert "Digest" not in headers


def test_sign_rfc9421_get_covers_method_and_target(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = sign_rfc9421("GET", OUTBOX, {}, None, KEY_ID, rsa_key, now=NOW)
    assert headers["Signature-Input"].startswith('sig1=("@method" "@target-uri");')
    assert "Content-Digest" not in headers


# --- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("sign", [sign_cavage, sign_rfc9421])
@pytest.mark.parametrize(
    ("method", "url", "body"), [("POST", INBOX, BODY), ("GET", OUTBOX, None), ("GET", INBOX, None)]
)
async def test_round_trip(sign, method, url, body, rsa_key) -> None:
    headers = sign(method, url, {}, body, KEY_ID, rsa_key, now=NOW)
    result = await verify(method, url, headers, body or b"", rsa_key.public_key())
    scheme = "cavage" if sign is sign_cavage else "rfc9421"
    assert result == VerifiedSignature(key_id=KEY_ID, owner=OWNER, scheme=scheme)


@pytest.mark.parametrize("sign", [sign_cavage, sign_rfc9421])
async def test_headers_are_case_insensitive(sign, rsa_key) -> None:
    headers = sign("POST", INBOX, {}, BODY, KEY_ID, rsa_key, now=NOW)
    shouted = {k.upper(): v for k, v in headers.items()}
    assert (await verify("POST", INBOX, shouted, BODY, rsa_key.public_key())).owner == OWNER
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    for container in (httpx.Headers(headers), StarletteHeaders(raw=raw)):
        assert (await verify("POST", INBOX, container, BODY, rsa_key.public_key())).owner == OWNER


async def test_cavage_query_string_optional(rsa_key: rsa.RSAPrivateKey) -> None:
    # Fedify signs (request-target) without the query, Lemmy with it: both must verify.
    base = {"Host": "groups.example", "Date": post_headers()["Date"]}
    names = ["(request-target)", "host", "date"]
    without = cavage(rsa_key, names, base, target="get /g/recovery/outbox")
    assert await verify("GET", OUTBOX, without, b"", rsa_key.public_key())


async def test_legacy_signature_prefix_accepted(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = sign_cavage("POST", INBOX, {}, BODY, KEY_ID, rsa_key, now=NOW)
    headers["Signature"] = "Signature " + headers["Signature"]
    assert await verify("POST", INBOX, headers, BODY, rsa_key.public_key())


# --- tampering (T02, T03) ------------------------------------------------------------------


@pytest.mark.parametrize("sign", [sign_cavage, sign_rfc9421])
async def test_tampered_body_refused(sign, rsa_key) -> None:
    headers = sign("POST", INBOX, {}, BODY, KEY_ID, rsa_key, now=NOW)
    resolver = Resolver(rsa_key.public_key())
    with pytest.raises(SignatureError):
        await verify_request("POST", INBOX, headers, BODY + b" ", resolver, now=NOW)
    assert resolver.calls == []  # digest mismatch is caught before any key lookup


async def test_body_swapped_with_fresh_digest_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = sign_cavage("POST", INBOX, {}, BODY, KEY_ID, rsa_key, now=NOW)
    headers["Digest"] = body_digest_header(b"{}")
    with pytest.raises(SignatureError):
        await verify("POST", INBOX, headers, b"{}", rsa_key.public_key())
    headers = sign_rfc9421("POST", INBOX, {}, BODY, KEY_ID, rsa_key, now=NOW)
    headers["Content-Digest"] = content_digest_header(b"{}")
    with pytest.raises(SignatureError):
        await verify("POST", INBOX, headers, b"{}", rsa_key.public_key())


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("POST", "https://groups.example/g/other/inbox"),  # another path
        ("PUT", INBOX),  # another method
        ("POST", "https://evil.example/g/recovery/inbox"),  # another host (RFC 9421 target)
    ],
)
@pytest.mark.parametrize("sign", [sign_cavage, sign_rfc9421])
async def test_signature_bound_to_target(sign, method, url, rsa_key) -> None:
    headers = sign("POST", INBOX, {}, BODY, KEY_ID, rsa_key, now=NOW)
    if sign is sign_cavage and "evil" in url:
        headers["Host"] = "evil.example"
    with pytest.raises(SignatureError):
        await verify(method, url, headers, BODY, rsa_key.public_key())


async def test_get_signature_not_reusable_for_post(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = sign_cavage("GET", INBOX, {}, None, KEY_ID, rsa_key, now=NOW)
    with pytest.raises(SignatureError):
        await verify("POST", INBOX, headers, b"", rsa_key.public_key())


@pytest.mark.parametrize("sign", [sign_cavage, sign_rfc9421])
async def test_changed_query_refused(sign, rsa_key) -> None:
    headers = sign("GET", OUTBOX, {}, None, KEY_ID, rsa_key, now=NOW)
    with pytest.raises(SignatureError):
        await verify("GET", OUTBOX.replace("page=2", "page=3"), headers, b"", rsa_key.public_key())


@pytest.mark.parametrize(("name", "value"), [("Host", "evil.example"), ("Date", "x")])
async def test_cavage_changed_signed_header_refused(name, value, rsa_key) -> None:
    headers = sign_cavage("POST", INBOX, {}, BODY, KEY_ID, rsa_key, now=NOW)
    if name == "Date":
        value = (NOW - timedelta(minutes=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    headers[name] = value
    with pytest.raises(SignatureError):
        await verify("POST", INBOX, headers, BODY, rsa_key.public_key())


async def test_rfc9421_changed_created_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = sign_rfc9421("POST", INBOX, {}, BODY, KEY_ID, rsa_key, now=NOW)
    stamp = str(int(NOW.timestamp()))
    headers["Signature-Input"] = headers["Signature-Input"].replace(stamp, str(int(stamp) - 60))
    with pytest.raises(SignatureError):
        await verify("POST", INBOX, headers, BODY, rsa_key.public_key())


@pytest.mark.parametrize("sign", [sign_cavage, sign_rfc9421])
async def test_another_key_refused(sign, rsa_key, other_rsa_key) -> None:
    headers = sign("POST", INBOX, {}, BODY, KEY_ID, other_rsa_key, now=NOW)
    with pytest.raises(SignatureError):
        await verify("POST", INBOX, headers, BODY, rsa_key.public_key())


async def test_unsigned_request_refused_without_lookup(rsa_key: rsa.RSAPrivateKey) -> None:
    resolver = Resolver(rsa_key.public_key())
    with pytest.raises(SignatureError):
        await verify_request("POST", INBOX, post_headers(), BODY, resolver, now=NOW)
    assert resolver.calls == []  # T01: unsigned traffic never triggers a fetch


# --- coverage rules (T03) ------------------------------------------------------------------


@pytest.mark.parametrize(
    "names",
    [
        ["host", "date", "digest", "content-type"],  # no (request-target)
        ["(request-target)", "date", "digest"],  # no host
        ["(request-target)", "host", "digest"],  # neither date nor (created)
        ["(request-target)", "host", "date", "content-type"],  # digest not signed
        ["(request-target)", "host", "date", "date", "digest"],  # duplicate name
    ],
)
async def test_cavage_insufficient_coverage_refused(names, rsa_key) -> None:
    headers = cavage(rsa_key, names, post_headers())
    resolver = Resolver(rsa_key.public_key())
    with pytest.raises(SignatureError):
        await verify_request("POST", INBOX, headers, BODY, resolver, now=NOW)
    assert resolver.calls == []


async def test_cavage_get_without_host_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    base = {"Host": "groups.example", "Date": post_headers()["Date"]}
    headers = cavage(rsa_key, ["(request-target)", "date"], base, target="get /g/recovery/inbox")
    with pytest.raises(SignatureError):
        await verify("GET", INBOX, headers, b"", rsa_key.public_key())


async def test_cavage_signed_header_missing_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = cavage(rsa_key, [*POST_NAMES, "user-agent"], {**post_headers(), "User-Agent": "x"})
    del headers["User-Agent"]
    with pytest.raises(SignatureError):
        await verify("POST", INBOX, headers, BODY, rsa_key.public_key())


async def test_cavage_minimal_mastodon_order_accepted(rsa_key: rsa.RSAPrivateKey) -> None:
    # Mastodon puts (request-target) last; order is the sender's choice.
    names = ["host", "date", "digest", "content-type", "(request-target)"]
    headers = cavage(rsa_key, names, post_headers())
    assert await verify("POST", INBOX, headers, BODY, rsa_key.public_key())


# --- Digest header (T02) -------------------------------------------------------------------

SHA512 = base64.b64encode(hashlib.sha512(BODY).digest()).decode()
SHA256 = base64.b64encode(hashlib.sha256(BODY).digest()).decode()


@pytest.mark.parametrize(
    "digest",
    [
        f"SHA-256={SHA256}",
        f"sha-256={SHA256}",
        f"SHA-256={SHA256},SHA-512={SHA512}",
        f"MD5=whatever,SHA-256={SHA256}",  # digests we do not understand are ignored
    ],
)
async def test_digest_variants_accepted(digest, rsa_key) -> None:
    headers = cavage(rsa_key, POST_NAMES, {**post_headers(), "Digest": digest})
    assert await verify("POST", INBOX, headers, BODY, rsa_key.public_key())


@pytest.mark.parametrize(
    "digest",
    [
        f"SHA-512={SHA512}",  # no SHA-256
        "SHA-256=not*base64!",  # malformed base64
        f"SHA-256={SHA256[:-4]}",  # truncated
        f"SHA-256={SHA256},SHA-512={SHA256}",  # one understood digest does not match
        f"SHA-256{SHA256}",  # no '='
        "",
    ],
)
async def test_digest_variants_refused(digest, rsa_key) -> None:
    headers = cavage(rsa_key, POST_NAMES, {**post_headers(), "Digest": digest})
    with pytest.raises(SignatureError):
        await verify("POST", INBOX, headers, BODY, rsa_key.public_key())


@pytest.mark.parametrize("sign", [sign_cavage, sign_rfc9421])
async def test_digest_header_missing_refused(sign, rsa_key) -> None:
    headers = sign("POST", INBOX, {}, BODY, KEY_ID, rsa_key, now=NOW)
    headers.pop("Digest", None)
    headers.pop("Content-Digest", None)
    with pytest.raises(SignatureError, match="missing"):
        await verify("POST", INBOX, headers, BODY, rsa_key.public_key())


# --- Signature header parsing (T05) --------------------------------------------------------


def good_header(rsa_key: rsa.RSAPrivateKey) -> dict[str, str]:
    return sign_cavage("POST", INBOX, {}, BODY, KEY_ID, rsa_key, now=NOW)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: f'keyId="https://evil.example/k",{s}',  # duplicate keyId
        lambda s: s + ',headers="date"',  # duplicate headers
        lambda s: s + ',nonce="1"',  # unknown parameter
        lambda s: s.replace('algorithm="rsa-sha256"', "algorithm='rsa-sha256'"),
        lambda s: s.replace('algorithm="rsa-sha256"', "algorithm=rsa-sha256"),
        lambda s: s.replace('keyId="', 'keyId="\\"'),  # backslash escape
        lambda s: s.rstrip('"'),  # unterminated quote
        lambda s: s + ",",  # trailing comma
        lambda s: s.replace(",", ";"),  # wrong separator
        lambda s: s.replace(f'keyId="{KEY_ID}",', ""),  # no keyId
        lambda s: s.split(',signature="')[0],  # no signature
        lambda s: s.split(',signature="')[0] + ',signature="%%%"',  # signature not base64
        lambda s: s.replace('keyId="', 'keyId = "'),  # spaces around '='
        lambda s: s + ',created="' + "1" * MAX_SIGNATURE_HEADER + '"',  # oversized
    ],
)
async def test_malformed_signature_header_refused(mangle, rsa_key) -> None:
    headers = good_header(rsa_key)
    headers["Signature"] = mangle(headers["Signature"])
    resolver = Resolver(rsa_key.public_key())
    with pytest.raises(SignatureError):
        await verify_request("POST", INBOX, headers, BODY, resolver, now=NOW)


async def test_second_signature_header_line_refused(rsa_key, other_rsa_key) -> None:
    # T05(d): a second Signature line (here a weaker one) must not be picked over the first.
    good = good_header(rsa_key)
    weak = cavage(other_rsa_key, ["(request-target)", "host", "date", "digest"], post_headers())
    raw = [(k.lower().encode(), v.encode()) for k, v in good.items()]
    raw.append((b"signature", weak["Signature"].encode()))
    multi = httpx.Headers([(k.decode(), v.decode()) for k, v in raw])
    for headers in (StarletteHeaders(raw=raw), multi):
        with pytest.raises(SignatureError, match="duplicate"):
            await verify("POST", INBOX, headers, BODY, rsa_key.public_key())


async def test_hmac_keyed_with_public_pem_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    # T05(a): an attacker "signs" with HMAC keyed by the public PEM everyone can fetch.
    pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    plain = post_headers()
    text = (
        f"(request-target): post /g/recovery/inbox\nhost: groups.example\ndate: {plain['Date']}\n"
        f"digest: {plain['Digest']}\ncontent-type: application/activity+json"
    ).encode()
    mac = base64.b64encode(hmac.new(pem, text, hashlib.sha256).digest()).decode()
    for algorithm in ("hmac-sha256", "hs2019"):
        plain["Signature"] = (
            f'keyId="{KEY_ID}",algorithm="{algorithm}",'
            f'headers="{" ".join(POST_NAMES)}",signature="{mac}"'
        )
        with pytest.raises(SignatureError):
            await verify("POST", INBOX, plain, BODY, rsa_key.public_key())


@pytest.mark.parametrize("params", ['algorithm="hs2019"', ""])
async def test_hs2019_and_absent_algorithm_use_rsa_for_rsa_keys(params, rsa_key) -> None:
    headers = cavage(rsa_key, POST_NAMES, post_headers(), params=params)
    assert ",," not in headers["Signature"]
    assert await verify("POST", INBOX, headers, BODY, rsa_key.public_key())


async def test_ed25519_key_with_hs2019_accepted(ed_key: ed25519.Ed25519PrivateKey) -> None:
    headers = cavage(ed_key, POST_NAMES, post_headers(), params='algorithm="hs2019"')
    assert await verify("POST", INBOX, headers, BODY, ed_key.public_key())


async def test_rsa_label_with_ed25519_key_refused(ed_key: ed25519.Ed25519PrivateKey) -> None:
    headers = cavage(ed_key, POST_NAMES, post_headers(), params='algorithm="rsa-sha256"')
    with pytest.raises(SignatureError):
        await verify("POST", INBOX, headers, BODY, ed_key.public_key())


async def test_ed25519_signature_against_rsa_key_refused(ed_key, rsa_key) -> None:
    headers = cavage(ed_key, POST_NAMES, post_headers(), params='algorithm="hs2019"')
    with pytest.raises(SignatureError):
        await verify("POST", INBOX, headers, BODY, rsa_key.public_key())


# --- time window (T04) ---------------------------------------------------------------------

HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("offset", "ok"),
    [(-HOUR + SECOND, True), (-HOUR, True), (-HOUR - SECOND, False), (HOUR - SECOND, True),
     (HOUR + SECOND, False), (-2 * HOUR, False)],
)  # fmt: skip
@pytest.mark.parametrize("sign", [sign_cavage, sign_rfc9421])
async def test_time_window_boundaries(sign, offset, ok, rsa_key) -> None:
    headers = sign("POST", INBOX, {}, BODY, KEY_ID, rsa_key, now=NOW + offset)
    if ok:
        assert await verify("POST", INBOX, headers, BODY, rsa_key.public_key())
    else:
        with pytest.raises(SignatureError):
            await verify("POST", INBOX, headers, BODY, rsa_key.public_key())


async def test_custom_window_is_honoured(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = sign_cavage("POST", INBOX, {}, BODY, KEY_ID, rsa_key, now=NOW + 20 * 60 * SECOND)
    with pytest.raises(SignatureError):
        await verify(
            "POST", INBOX, headers, BODY, rsa_key.public_key(), max_future=timedelta(minutes=15)
        )


@pytest.mark.parametrize("date", ["wrong date", "", "2026-09-01T10:00:00Z"])
async def test_unparsable_date_refused(date, rsa_key) -> None:
    headers = cavage(rsa_key, POST_NAMES, {**post_headers(), "Date": date})
    with pytest.raises(SignatureError):
        await verify("POST", INBOX, headers, BODY, rsa_key.public_key())


async def test_missing_signed_date_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = good_header(rsa_key)
    del headers["Date"]
    with pytest.raises(SignatureError):
        await verify("POST", INBOX, headers, BODY, rsa_key.public_key())


CREATED_NAMES = ["(request-target)", "(created)", "host", "digest"]


def created_headers(key: rsa.RSAPrivateKey, created: datetime, expires: datetime | None = None):
    names = [*CREATED_NAMES, "(expires)"] if expires else CREATED_NAMES
    return cavage(
        key,
        names,
        {k: v for k, v in post_headers().items() if k != "Date"},
        params='algorithm="hs2019"',
        created=int(created.timestamp()),
        expires=int(expires.timestamp()) if expires else None,
    )


async def test_created_pseudo_header_accepted(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = created_headers(rsa_key, NOW - timedelta(minutes=5), NOW + timedelta(minutes=5))
    assert await verify("POST", INBOX, headers, BODY, rsa_key.public_key())


@pytest.mark.parametrize(
    ("created", "expires"),
    [
        (NOW - 2 * HOUR, None),  # created too old
        (NOW + 2 * HOUR, None),  # created in the future
        (NOW - timedelta(minutes=10), NOW - timedelta(minutes=5)),  # expired
        (NOW - 2 * HOUR, NOW + timedelta(days=30)),  # far expires does not stretch the window
    ],
)
async def test_created_and_expires_window_refused(created, expires, rsa_key) -> None:
    headers = created_headers(rsa_key, created, expires)
    with pytest.raises(SignatureError):
        await verify("POST", INBOX, headers, BODY, rsa_key.public_key())


async def test_created_pseudo_header_needs_hs2019(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = created_headers(rsa_key, NOW)
    headers["Signature"] = headers["Signature"].replace("hs2019", "rsa-sha256")
    with pytest.raises(SignatureError):
        await verify("POST", INBOX, headers, BODY, rsa_key.public_key())


async def test_created_covered_but_absent_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = created_headers(rsa_key, NOW)
    headers["Signature"] = headers["Signature"].replace(f",created={int(NOW.timestamp())}", "")
    with pytest.raises(SignatureError):
        await verify("POST", INBOX, headers, BODY, rsa_key.public_key())


# --- RFC 9421 specifics --------------------------------------------------------------------


async def test_rfc9421_authority_and_path_accepted(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = rfc9421(rsa_key, components=("@method", "@authority", "@path"))
    assert (await verify("POST", INBOX, headers, BODY, rsa_key.public_key())).scheme == "rfc9421"


async def test_rfc9421_path_without_query_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = rfc9421(rsa_key, "GET", OUTBOX, None, components=("@method", "@authority", "@path"))
    with pytest.raises(SignatureError):
        await verify("GET", OUTBOX, headers, b"", rsa_key.public_key())
    headers = rfc9421(
        rsa_key, "GET", OUTBOX, None, components=("@method", "@authority", "@path", "@query")
    )
    assert await verify("GET", OUTBOX, headers, b"", rsa_key.public_key())


@pytest.mark.parametrize(
    "components",
    [("@target-uri",), ("@method", "@path"), ("@method", "@authority")],
)
async def test_rfc9421_insufficient_coverage_refused(components, rsa_key) -> None:
    headers = rfc9421(rsa_key, "GET", INBOX, None, components=components)
    with pytest.raises(SignatureError):
        await verify("GET", INBOX, headers, b"", rsa_key.public_key())


async def test_rfc9421_post_without_content_digest_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = rfc9421(rsa_key, body=None)
    headers["Content-Digest"] = content_digest_header(BODY)  # present but not signed
    with pytest.raises(SignatureError):
        await verify("POST", INBOX, headers, BODY, rsa_key.public_key())


@pytest.mark.parametrize(
    "digest",
    [
        f"sha-512=:{SHA512}:",  # no sha-256
        f"SHA-256=:{SHA256}:",  # not a structured-field key
        f"sha-256={SHA256}",  # not a byte sequence
        f"sha-256=:{SHA256}:, sha-512=:{SHA256}:",  # one understood digest does not match
        f"sha-256=:{SHA256}:, sha-256=:{SHA256}:",  # duplicate
    ],
)
async def test_rfc9421_bad_content_digest_refused(digest, rsa_key) -> None:
    headers = sign_rfc9421("POST", INBOX, {}, BODY, KEY_ID, rsa_key, now=NOW)
    headers["Content-Digest"] = digest
    with pytest.raises(SignatureError):
        await verify("POST", INBOX, headers, BODY, rsa_key.public_key())


@pytest.mark.parametrize(
    "mangle",
    [
        lambda h: h.update({"Signature-Input": h["Signature-Input"].replace(";created=", ";c=")}),
        lambda h: h.update({"Signature-Input": h["Signature-Input"].replace(";keyid=", ";k=")}),
        lambda h: h.update(
            {
                "Signature-Input": h["Signature-Input"]
                + ", "
                + h["Signature-Input"].replace("sig1", "sig2"),
                "Signature": h["Signature"] + ", " + h["Signature"].replace("sig1", "sig2"),
            }
        ),
        lambda h: h.update({"Signature": h["Signature"].replace("sig1", "sig2")}),
        lambda h: h.update({"Signature": "sig1=:%%%:"}),
        lambda h: h.update({"Signature-Input": "sig1=:AAAA:"}),
        lambda h: h.pop("Signature"),
        lambda h: h.update({"Signature-Input": h["Signature-Input"] + " " * MAX_SIGNATURE_HEADER}),
    ],
)
async def test_rfc9421_malformed_refused(mangle, rsa_key) -> None:
    headers = sign_rfc9421("POST", INBOX, {}, BODY, KEY_ID, rsa_key, now=NOW)
    mangle(headers)
    resolver = Resolver(rsa_key.public_key())
    with pytest.raises(SignatureError):
        await verify_request("POST", INBOX, headers, BODY, resolver, now=NOW)
    assert resolver.calls == []


async def test_rfc9421_expired_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = rfc9421(rsa_key, created=NOW - timedelta(minutes=2), expires=NOW - SECOND)
    with pytest.raises(SignatureError):
        await verify("POST", INBOX, headers, BODY, rsa_key.public_key())
    headers = rfc9421(rsa_key, created=NOW - 2 * HOUR, expires=NOW + timedelta(days=30))
    with pytest.raises(SignatureError):
        await verify("POST", INBOX, headers, BODY, rsa_key.public_key())


async def test_rfc9421_ed25519_and_pss(ed_key, rsa_key) -> None:
    headers = rfc9421(ed_key, algorithm=algorithms.ED25519)
    assert await verify("POST", INBOX, headers, BODY, ed_key.public_key())
    headers = rfc9421(rsa_key, algorithm=algorithms.RSA_PSS_SHA512)
    assert await verify("POST", INBOX, headers, BODY, rsa_key.public_key())


async def test_rfc9421_alg_must_fit_stored_key(ed_key, rsa_key) -> None:
    # An Ed25519 signature claimed for an RSA key, and an RSA one for an Ed25519 key.
    headers = rfc9421(ed_key, algorithm=algorithms.ED25519)
    with pytest.raises(SignatureError):
        await verify("POST", INBOX, headers, BODY, rsa_key.public_key())
    headers = rfc9421(rsa_key)
    with pytest.raises(SignatureError):
        await verify("POST", INBOX, headers, BODY, ed_key.public_key())


async def test_rfc9421_hmac_with_public_pem_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    headers = rfc9421(pem, algorithm=algorithms.HMAC_SHA256)
    with pytest.raises(SignatureError):
        await verify("POST", INBOX, headers, BODY, rsa_key.public_key())


# --- keyId extraction ----------------------------------------------------------------------


@pytest.mark.parametrize("sign", [sign_cavage, sign_rfc9421])
def test_signature_key_id(sign, rsa_key) -> None:
    headers = sign("POST", INBOX, {}, BODY, KEY_ID, rsa_key, now=NOW)
    assert signature_key_id("POST", INBOX, headers) == KEY_ID


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Signature": "garbage"},
        {"Signature-Input": "sig1=();created=1", "Signature": "sig1=:AA==:"},
    ],
)
def test_signature_key_id_malformed(headers) -> None:
    with pytest.raises(SignatureError):
        signature_key_id("POST", INBOX, headers)


# --- key rotation (T09) --------------------------------------------------------------------


@pytest.mark.parametrize("sign", [sign_cavage, sign_rfc9421])
async def test_rotated_key_verifies_after_one_refresh(sign, rsa_key, other_rsa_key) -> None:
    headers = sign("POST", INBOX, {}, BODY, KEY_ID, rsa_key, now=NOW)
    resolver = Resolver(other_rsa_key.public_key(), refreshed=rsa_key.public_key())
    result = await verify_request("POST", INBOX, headers, BODY, resolver, now=NOW)
    assert result.owner == OWNER
    assert resolver.calls == [(KEY_ID, False), (KEY_ID, True)]


@pytest.mark.parametrize("sign", [sign_cavage, sign_rfc9421])
async def test_bad_signature_refreshes_exactly_once(sign, rsa_key, other_rsa_key) -> None:
    headers = sign("POST", INBOX, {}, BODY, KEY_ID, other_rsa_key, now=NOW)
    resolver = Resolver(rsa_key.public_key())
    with pytest.raises(SignatureError):
        await verify_request("POST", INBOX, headers, BODY, resolver, now=NOW)
    assert resolver.calls == [(KEY_ID, False), (KEY_ID, True)]


async def test_good_key_needs_no_refresh(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = sign_cavage("POST", INBOX, {}, BODY, KEY_ID, rsa_key, now=NOW)
    resolver = Resolver(rsa_key.public_key())
    await verify_request("POST", INBOX, headers, BODY, resolver, now=NOW)
    assert resolver.calls == [(KEY_ID, False)]


async def test_key_unavailable_propagates(rsa_key: rsa.RSAPrivateKey) -> None:
    async def unreachable(key_id: str, refresh: bool) -> PublicKeyInfo:
        raise KeyUnavailable("peer.example timed out")

    headers = sign_cavage("POST", INBOX, {}, BODY, KEY_ID, rsa_key, now=NOW)
    with pytest.raises(KeyUnavailable):
        await verify_request("POST", INBOX, headers, BODY, unreachable, now=NOW)


# --- post_signed double-knocking -----------------------------------------------------------


class Peer:
    """A remote inbox that really verifies what it receives and accepts only some schemes."""

    def __init__(self, key: rsa.RSAPrivateKey, accepts: set[str]) -> None:
        self.key, self.accepts = key, accepts
        self.seen: list[tuple[str, bytes]] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        scheme = "rfc9421" if "signature-input" in request.headers else "cavage"
        self.seen.append((scheme, body))
        if scheme not in self.accepts:
            return httpx.Response(401)
        resolver = Resolver(self.key.public_key())
        await verify_request(request.method, str(request.url), request.headers, body, resolver)
        return httpx.Response(202)


async def send(peer: Peer, prefs: SchemePreferences, key: rsa.RSAPrivateKey) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.MockTransport(peer)) as client:
        return await post_signed(
            client, INBOX, BODY, KEY_ID, key, prefs, extra_headers={"User-Agent": "fedgroups/0.1"}
        )


async def test_double_knock_falls_back_to_rfc9421_and_remembers(rsa_key) -> None:
    peer, prefs = Peer(rsa_key, {"rfc9421"}), SchemePreferences()
    response = await send(peer, prefs, rsa_key)
    assert response.status_code == 202
    assert peer.seen == [("cavage", BODY), ("rfc9421", BODY)]
    assert prefs.scheme_for(INBOX) == "rfc9421"
    assert prefs.scheme_for("https://groups.example/other/inbox") == "rfc9421"  # same origin
    assert (await send(peer, prefs, rsa_key)).status_code == 202
    assert [s for s, _ in peer.seen] == ["cavage", "rfc9421", "rfc9421"]


async def test_cavage_peer_needs_one_knock(rsa_key: rsa.RSAPrivateKey) -> None:
    peer, prefs = Peer(rsa_key, {"cavage"}), SchemePreferences()
    assert (await send(peer, prefs, rsa_key)).status_code == 202
    assert [s for s, _ in peer.seen] == ["cavage"]
    assert prefs.scheme_for(INBOX) == "cavage"


async def test_remembered_rfc9421_falls_back_to_cavage(rsa_key: rsa.RSAPrivateKey) -> None:
    peer, prefs = Peer(rsa_key, {"cavage"}), SchemePreferences()
    prefs.remember(INBOX, "rfc9421")
    assert (await send(peer, prefs, rsa_key)).status_code == 202
    assert [s for s, _ in peer.seen] == ["rfc9421", "cavage"]
    assert prefs.scheme_for(INBOX) == "cavage"


async def test_refused_by_both_schemes_knocks_twice_only(rsa_key: rsa.RSAPrivateKey) -> None:
    peer, prefs = Peer(rsa_key, set()), SchemePreferences()
    assert (await send(peer, prefs, rsa_key)).status_code == 401
    assert [s for s, _ in peer.seen] == ["cavage", "rfc9421"]
    assert prefs.scheme_for(INBOX) == "cavage"


async def test_reply_body_is_read_only_up_to_a_cap(rsa_key: rsa.RSAPrivateKey) -> None:
    """T71c: a peer answering with an endless body (here 10 MiB) costs a few KiB."""
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(10 * 1024):
            sent += 1
            yield b"x" * 1024

    def reply(request: httpx.Request) -> httpx.Response:
        headers = {"Retry-After": "7", "Content-Encoding": "gzip"}
        return httpx.Response(503, headers=headers, content=endless())

    async with httpx.AsyncClient(transport=httpx.MockTransport(reply)) as client:
        response = await post_signed(client, INBOX, BODY, KEY_ID, rsa_key, SchemePreferences())
    assert response.status_code == 503 and response.headers["retry-after"] == "7"
    assert response.content == b"x" * MAX_REPLY_BYTES  # raw: never inflated by us
    assert sent <= MAX_REPLY_BYTES // 1024 + 1


async def test_short_reply_body_is_kept_whole(rsa_key: rsa.RSAPrivateKey) -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"error": "Validation failed"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(reply)) as client:
        response = await post_signed(client, INBOX, BODY, KEY_ID, rsa_key, SchemePreferences())
    assert response.status_code == 422
    assert json.loads(response.content) == {"error": "Validation failed"}


def test_scheme_preferences_per_origin_and_bounded() -> None:
    prefs = SchemePreferences(max_entries=2)
    assert prefs.scheme_for("https://a.example/inbox") == "cavage"
    prefs.remember("https://A.example:443/inbox", "rfc9421")
    assert prefs.scheme_for("https://a.example/x") == "rfc9421"
    assert prefs.scheme_for("http://a.example/x") == "cavage"
    assert prefs.scheme_for("https://a.example:8443/x") == "cavage"
    prefs.remember("https://b.example/inbox", "rfc9421")
    prefs.remember("https://c.example/inbox", "rfc9421")
    assert prefs.scheme_for("https://a.example/x") == "cavage"  # oldest forgotten
    assert prefs.scheme_for("https://c.example/x") == "rfc9421"
