"""Fetching remote ActivityStreams documents against real local servers (T20-T22, T25,
T27, T30, T33, T34, total deadline)."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import json
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Mapping

import httpx
import pytest

from fedgroups.errors import FetchError, UnsafeAddress
from fedgroups.federation.fetch import (
    ACCEPT,
    FetchedDocument,
    FetchStatusError,
    GoneError,
    fetch_document,
    parse_document,
)
from fedgroups.federation.http import build_client

from .conftest import FakeDNS, RecordedRequest, Reply, RoutingDialer, ServerFactory, TLSPair

UA = "fedgroups/0.1.0 (+https://groups.test/)"
AS = "application/activity+json"
LD_AS = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
PUBLIC_IP = "93.184.215.14"  # routed to 127.0.0.1 by RoutingDialer; never really dialled


def as_reply(doc: object, content_type: str = AS, **kw: object) -> Reply:
    body = json.dumps(doc).encode()
    return Reply(headers=[("Content-Type", content_type)], body=body, **kw)  # type: ignore[arg-type]


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status=status, headers=[("Location", location)])


class Signer:
    """Stands in for the instance actor's signer; records what it was asked to sign."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, method: str, url: str) -> Mapping[str, str]:
        self.calls.append((method, url))
        return {"Date": "Tue, 01 Sep 2026 10:00:00 GMT", "Signature": f"sig:{method}:{url}"}


@pytest.fixture
async def fetch_client() -> AsyncIterator[httpx.AsyncClient]:
    async with build_client(allow_private_peers=True, user_agent=UA) as client:
        yield client


@pytest.fixture
async def guarded_fetch_client(
    outbound_fake_dns: FakeDNS,
) -> AsyncIterator[tuple[httpx.AsyncClient, FakeDNS]]:
    """Guard on; peer.test and evil.test look public and are routed to local servers."""
    outbound_fake_dns.set("peer.test", [PUBLIC_IP])
    outbound_fake_dns.set("evil.test", [PUBLIC_IP])
    dialer = RoutingDialer({PUBLIC_IP: "127.0.0.1"})
    async with build_client(allow_private_peers=False, user_agent=UA, dialer=dialer) as client:
        yield client, outbound_fake_dns


async def test_fetches_a_document_with_the_right_request(
    outbound_server: ServerFactory, fetch_client: httpx.AsyncClient
) -> None:
    routes: dict[str, Reply] = {}
    server = await outbound_server(routes)
    url = server.url("/users/rosa")
    routes["/users/rosa"] = as_reply({"id": url, "type": "Person"})
    signer = Signer()
    doc = await fetch_document(fetch_client, url, sign_get=signer)
    assert doc == FetchedDocument(url=url, data={"id": url, "type": "Person"}, status=200)
    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.url = "x"  # type: ignore[misc]
    sent = server.requests[0]
    assert (sent.method, sent.target) == ("GET", "/users/rosa")
    assert sent.headers["accept"] == ACCEPT
    assert sent.headers["user-agent"] == UA
    assert sent.headers["signature"] == f"sig:GET:{url}"
    assert signer.calls == [("GET", url)]


@pytest.mark.parametrize(
    "content_type",
    [
        AS,
        "application/activity+json; charset=utf-8",
        "Application/Activity+JSON",
        LD_AS,
        'Application/LD+JSON; Profile="https://www.w3.org/ns/activitystreams"',
        "application/ld+json;profile=https://www.w3.org/ns/activitystreams",
        'application/ld+json; charset=utf-8; profile="https://www.w3.org/ns/activitystreams"',
        'application/ld+json; profile="https://w3id.org/security/v1 '
        'https://www.w3.org/ns/activitystreams"',
    ],
)
async def test_activitystreams_media_types_are_accepted(
    outbound_server: ServerFactory, fetch_client: httpx.AsyncClient, content_type: str
) -> None:
    routes: dict[str, Reply] = {}
    server = await outbound_server(routes)
    routes["/o"] = as_reply({"id": server.url("/o")}, content_type)
    assert (await fetch_document(fetch_client, server.url("/o"))).data["id"] == server.url("/o")


@pytest.mark.parametrize(
    "claimed",
    [
        "{base}/notes/2",  # another object on the same peer
        "http://evil.test/notes/1",  # another origin
        "{base}/notes/1#frag",
        "{base}/notes/1/",
        "{base}/Notes/1",
        None,  # no id
        42,
        ["{base}/notes/1"],
        {"id": "{base}/notes/1"},
        "not a url",
        "file:///notes/1",
    ],
)
async def test_t20_document_id_must_equal_the_fetched_url(
    outbound_server: ServerFactory, fetch_client: httpx.AsyncClient, claimed: object
) -> None:
    routes: dict[str, Reply] = {}
    server = await outbound_server(routes)
    base = server.url("").rstrip("/")
    text = json.dumps(claimed).replace("{base}", base)
    doc = {"type": "Note", "content": "x"}
    if claimed is not None:
        doc["id"] = json.loads(text)
    routes["/notes/1"] = as_reply(doc)
    with pytest.raises(FetchError, match="id"):
        await fetch_document(fetch_client, server.url("/notes/1"))


async def test_t20_id_comparison_ignores_only_case_of_host_and_default_port(
    outbound_server: ServerFactory, fetch_client: httpx.AsyncClient
) -> None:
    routes: dict[str, Reply] = {}
    server = await outbound_server(routes)
    routes["/notes/1"] = as_reply({"id": f"HTTP://127.0.0.1:{server.port}/notes/1"})
    doc = await fetch_document(fetch_client, server.url("/notes/1#main-key"))
    assert doc.url == server.url("/notes/1")  # the fragment never goes on the wire


@pytest.mark.parametrize(
    "headers",
    [
        [("Content-Type", "text/html")],
        [("Content-Type", "application/json")],
        [("Content-Type", "image/png")],
        [("Content-Type", "application/ld+json")],
        [("Content-Type", 'application/ld+json; profile="https://example.org/other"')],
        [("Content-Type", "application/activity+json-ish")],
        [("Content-Type", "application/activity+json garbage")],
        [],
        [("Content-Type", AS), ("Content-Disposition", "attachment; filename=actor.json")],
    ],
)
async def test_t21_non_activitystreams_media_types_are_refused(
    outbound_server: ServerFactory, fetch_client: httpx.AsyncClient, headers: list[tuple[str, str]]
) -> None:
    routes: dict[str, Reply] = {}
    server = await outbound_server(routes)
    body = json.dumps({"id": server.url("/media/actor.json"), "type": "Person"}).encode()
    routes["/media/actor.json"] = Reply(headers=headers, body=body)
    with pytest.raises(FetchError, match=r"ActivityStreams|download"):
        await fetch_document(fetch_client, server.url("/media/actor.json"))


async def test_t22_id_is_checked_against_the_last_url_of_the_chain(
    outbound_server: ServerFactory,
    guarded_fetch_client: tuple[httpx.AsyncClient, FakeDNS],
) -> None:
    client, _dns = guarded_fetch_client
    peer_routes: dict[str, Reply] = {}
    evil_routes: dict[str, Reply] = {}
    peer = await outbound_server(peer_routes)
    evil = await outbound_server(evil_routes)
    peer_url = peer.url("/users/rosa", name="peer.test")
    evil_url = evil.url("/x", name="evil.test")
    peer_routes["/users/rosa"] = redirect(evil_url)
    evil_routes["/x"] = as_reply({"id": peer_url, "type": "Person"})  # poses as peer.test
    with pytest.raises(FetchError, match="claims id"):
        await fetch_document(client, peer_url)
    # Honest content on evil.test is returned under evil.test's URL, never peer.test's.
    evil_routes["/x"] = as_reply({"id": evil_url, "type": "Person"})
    doc = await fetch_document(client, peer_url)
    assert doc.url == evil_url


async def _chain(outbound_server: ServerFactory, hops: int) -> tuple[str, list[RecordedRequest]]:
    routes: dict[str, Reply] = {}
    server = await outbound_server(routes)
    for i in range(hops):
        routes[f"/{i}"] = redirect(f"/{i + 1}", status=(301, 302, 303, 307, 308)[i % 5])
    routes[f"/{hops}"] = as_reply({"id": server.url(f"/{hops}")})
    return server.url("/0"), server.requests


async def test_t22_three_redirects_are_followed(
    outbound_server: ServerFactory, fetch_client: httpx.AsyncClient
) -> None:
    start, requests = await _chain(outbound_server, 3)
    signer = Signer()
    doc = await fetch_document(fetch_client, start, sign_get=signer)
    assert doc.url.endswith("/3")
    # Every hop was signed for its own URL (Akkoma 2025.10: signatures renewed).
    assert [url for _m, url in signer.calls] == [start.replace("/0", f"/{i}") for i in range(4)]
    assert [r.headers["signature"] for r in requests] == [f"sig:GET:{u}" for _, u in signer.calls]


@pytest.mark.parametrize("hops", [4, 5])
async def test_t22_longer_chains_are_refused(
    outbound_server: ServerFactory, fetch_client: httpx.AsyncClient, hops: int
) -> None:
    start, requests = await _chain(outbound_server, hops)
    with pytest.raises(FetchError, match="redirects"):
        await fetch_document(fetch_client, start, max_redirects=3)
    assert len(requests) == 4


async def test_t22_redirect_to_an_internal_address_is_not_followed(
    outbound_server: ServerFactory,
    guarded_fetch_client: tuple[httpx.AsyncClient, FakeDNS],
) -> None:
    client, _dns = guarded_fetch_client
    internal = await outbound_server({"/": as_reply({"id": "x"})})
    peer = await outbound_server({"/users/rosa": redirect(internal.url("/"))})
    with pytest.raises(UnsafeAddress):
        await fetch_document(client, peer.url("/users/rosa", name="peer.test"))
    assert peer.connections == 1
    assert internal.connections == 0


@pytest.mark.parametrize(
    "location", ["file:///etc/passwd", "gopher://peer.test:70/_x", "ftp://peer.test/a"]
)
async def test_t22_redirect_to_another_scheme_is_not_followed(
    outbound_server: ServerFactory, fetch_client: httpx.AsyncClient, location: str
) -> None:
    server = await outbound_server({"/a": redirect(location)})
    with pytest.raises(UnsafeAddress):
        await fetch_document(fetch_client, server.url("/a"))


async def test_t22_https_to_http_downgrade_is_refused(
    outbound_server: ServerFactory, outbound_fake_dns: FakeDNS, outbound_tls: TLSPair
) -> None:
    outbound_fake_dns.set("peer.test", ["127.0.0.1"])
    plain = await outbound_server({"/a": as_reply({"id": "x"})})
    secure = await outbound_server(
        {"/a": redirect(plain.url("/a", name="peer.test"))}, tls=outbound_tls.server
    )
    client = build_client(allow_private_peers=True, user_agent=UA, ssl_context=outbound_tls.client)
    async with client:
        with pytest.raises(FetchError, match="https to http"):
            await fetch_document(client, secure.url("/a", name="peer.test", scheme="https"))
    assert secure.connections == 1
    assert plain.connections == 0


async def test_redirect_without_location_is_an_error(
    outbound_server: ServerFactory, fetch_client: httpx.AsyncClient
) -> None:
    server = await outbound_server({"/a": Reply(status=302)})
    with pytest.raises(FetchError, match="Location"):
        await fetch_document(fetch_client, server.url("/a"))


@pytest.mark.parametrize(
    "suffix", ["/a\r\nX-Injected: 1", "/a\nb", "/a b", "\\@evil.test/", "/a\x00"]
)
async def test_t25_crlf_and_friends_never_reach_the_wire(
    outbound_server: ServerFactory, fetch_client: httpx.AsyncClient, suffix: str
) -> None:
    server = await outbound_server({})
    signer = Signer()
    with pytest.raises(UnsafeAddress):
        await fetch_document(fetch_client, server.url("") + suffix, sign_get=signer)
    assert server.connections == 0
    assert signer.calls == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "data:application/ld+json,{}",
        "gopher://127.0.0.1:6379/_INFO",
        "ftp://peer.test/ctx.jsonld",
        "ws://peer.test/ctx",
        "javascript:alert(1)",
        "jar:http://peer.test/x!/ctx",
    ],
)
async def test_t27_context_like_urls_with_other_schemes_are_refused(
    outbound_dialer: RoutingDialer, url: str
) -> None:
    client = build_client(allow_private_peers=True, user_agent=UA, dialer=outbound_dialer)
    async with client:
        with pytest.raises(UnsafeAddress):
            await fetch_document(client, url)
    assert outbound_dialer.dialled == []


async def test_t27_context_on_an_internal_address_is_refused(
    outbound_server: ServerFactory,
) -> None:
    server = await outbound_server({"/ctx": as_reply({"@context": {}})})
    async with build_client(allow_private_peers=False, user_agent=UA) as client:
        with pytest.raises(UnsafeAddress):
            await fetch_document(client, server.url("/ctx"))
    assert server.connections == 0


def _bomb_reply(url: str, encoding: str, compress: object) -> Reply:
    # A valid document head followed by 10 MB of zeros in a JSON string, compressed.
    payload = b'{"id": "' + url.encode() + b'", "x": "' + b"0" * 10_000_000 + b'"}'
    body = compress(payload)  # type: ignore[operator]
    assert len(body) < 100_000
    return Reply(headers=[("Content-Type", AS), ("Content-Encoding", encoding)], body=body)


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b, wbits=-zlib.MAX_WBITS)),  # raw deflate
    ],
)
async def test_t34_compression_bomb_is_stopped_at_the_decoded_cap(
    outbound_server: ServerFactory, fetch_client: httpx.AsyncClient, encoding: str, compress: object
) -> None:
    routes: dict[str, Reply] = {}
    server = await outbound_server(routes)
    routes["/bomb"] = _bomb_reply(server.url("/bomb"), encoding, compress)
    tracemalloc.start()
    try:
        with pytest.raises(FetchError, match="size cap"):
            await fetch_document(fetch_client, server.url("/bomb"))
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * 1024 * 1024  # cap is 1 MiB; the bomb inflates to 10 MB


async def test_t34_compressed_document_under_the_cap_is_decoded(
    outbound_server: ServerFactory, fetch_client: httpx.AsyncClient
) -> None:
    routes: dict[str, Reply] = {}
    server = await outbound_server(routes)
    body = gzip.compress(json.dumps({"id": server.url("/n"), "content": "a" * 900_000}).encode())
    routes["/n"] = Reply(headers=[("Content-Type", AS), ("Content-Encoding", "gzip")], body=body)
    doc = await fetch_document(fetch_client, server.url("/n"))
    assert len(doc.data["content"]) == 900_000


async def test_t34_body_over_the_cap_without_content_length_is_cut(
    outbound_server: ServerFactory, fetch_client: httpx.AsyncClient
) -> None:
    routes: dict[str, Reply] = {}
    server = await outbound_server(routes)
    big = as_reply({"id": server.url("/big"), "x": "y" * 2_000_000}, content_length=False)
    routes["/big"] = big
    with pytest.raises(FetchError, match="size cap"):
        await fetch_document(fetch_client, server.url("/big"))


async def test_t34_announced_length_over_the_cap_is_refused_before_reading(
    outbound_server: ServerFactory, fetch_client: httpx.AsyncClient
) -> None:
    server = await outbound_server(
        {"/huge": Reply(headers=[("Content-Type", AS)], content_length=50_000_000, hold_open=True)}
    )
    started = time.monotonic()
    with pytest.raises(FetchError, match="50000000"):
        await fetch_document(fetch_client, server.url("/huge"), total_timeout=5)
    assert time.monotonic() - started < 1


async def test_t34_truncated_or_corrupt_compressed_bodies_are_refused(
    outbound_server: ServerFactory, fetch_client: httpx.AsyncClient
) -> None:
    routes: dict[str, Reply] = {}
    server = await outbound_server(routes)
    whole = gzip.compress(json.dumps({"id": server.url("/t")}).encode())
    for path, body in (("/t", whole[:-12]), ("/c", b"not gzip at all")):
        gz = [("Content-Type", AS), ("Content-Encoding", "gzip")]
        routes[path] = Reply(headers=gz, body=body)
        with pytest.raises(FetchError, match=r"truncated|corrupt"):
            await fetch_document(fetch_client, server.url(path))


@pytest.mark.parametrize("encoding", ["br", "zstd", "gzip, gzip", "compress"])
async def test_t34_encodings_we_cannot_bound_are_refused(
    outbound_server: ServerFactory, fetch_client: httpx.AsyncClient, encoding: str
) -> None:
    reply = Reply(headers=[("Content-Type", AS), ("Content-Encoding", encoding)], body=b"xx")
    server = await outbound_server({"/a": reply})
    with pytest.raises(FetchError, match="Content-Encoding"):
        await fetch_document(fetch_client, server.url("/a"))


async def test_total_deadline_covers_a_trickled_body(
    outbound_server: ServerFactory, fetch_client: httpx.AsyncClient
) -> None:
    routes: dict[str, Reply] = {}
    server = await outbound_server(routes)
    routes["/slow"] = as_reply({"id": server.url("/slow")}, trickle=0.2)
    started = time.monotonic()
    with pytest.raises(FetchError, match="longer than"):
        await fetch_document(fetch_client, server.url("/slow"), total_timeout=1.0)
    assert time.monotonic() - started < 1.5


async def test_total_deadline_covers_the_redirect_chain(
    outbound_server: ServerFactory, fetch_client: httpx.AsyncClient
) -> None:
    async def slow_hop(request: RecordedRequest) -> Reply:
        await asyncio.sleep(0.4)  # each hop alone is well inside the read timeout
        hop = int(request.target.strip("/"))
        return redirect(f"/{hop + 1}")

    server = await outbound_server(slow_hop)
    started = time.monotonic()
    with pytest.raises(FetchError, match="longer than"):
        await fetch_document(fetch_client, server.url("/0"), total_timeout=1.0)
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize(("status", "error"), [(404, FetchStatusError), (410, GoneError)])
async def test_not_found_and_gone_are_told_apart(
    outbound_server: ServerFactory, fetch_client: httpx.AsyncClient, status: int, error: type
) -> None:
    server = await outbound_server({"/n": Reply(status=status)})
    with pytest.raises(FetchStatusError) as caught:
        await fetch_document(fetch_client, server.url("/n"))
    assert type(caught.value) is error
    assert caught.value.status == status
    assert isinstance(caught.value, GoneError) is (status == 410)


@pytest.mark.parametrize("status", [401, 403, 500, 502, 503, 300, 304])
async def test_other_statuses_are_fetch_errors_with_the_status(
    outbound_server: ServerFactory, fetch_client: httpx.AsyncClient, status: int
) -> None:
    server = await outbound_server({"/n": Reply(status=status)})
    with pytest.raises(FetchStatusError) as caught:
        await fetch_document(fetch_client, server.url("/n"))
    assert caught.value.status == status


async def test_connection_failures_are_short_fetch_errors(
    outbound_server: ServerFactory, fetch_client: httpx.AsyncClient
) -> None:
    server = await outbound_server({})
    closed_port_url = server.url("/a")
    await server.close()
    with pytest.raises(FetchError, match="ConnectError") as caught:
        await fetch_document(fetch_client, closed_port_url)
    assert not isinstance(caught.value, UnsafeAddress)


async def test_duplicate_keys_on_the_wire_are_refused(
    outbound_server: ServerFactory, fetch_client: httpx.AsyncClient
) -> None:
    routes: dict[str, Reply] = {}
    server = await outbound_server(routes)
    url = server.url("/a")
    body = f'{{"id": "{url}", "actor": "https://peer.test/rosa", "actor": "https://evil.test/mal"}}'
    routes["/a"] = Reply(headers=[("Content-Type", AS)], body=body.encode())
    with pytest.raises(FetchError, match="duplicate key 'actor'"):
        await fetch_document(fetch_client, url)


def _nested(depth: int) -> bytes:
    return b'{"id": "x", "a": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"id": "a", "id": "b"}', "duplicate"),
        (b'["id"]', "not a JSON object"),
        (b'"id"', "not a JSON object"),
        (b"null", "not a JSON object"),
        (b'{"id": "a", "n": NaN}', "NaN"),
        (b'{"id": "a", "n": Infinity}', "Infinity"),
        (b'{"id": "a", "n": -Infinity}', "Infinity"),
        (b'{"id": "a"} trailing', "Extra data"),
        (b'{"id": "a"}{"id": "b"}', "Extra data"),
        ('\ufeff{"id": "a"}'.encode(), "BOM"),
        (b'{"id": "\xff"}', "not UTF-8"),
        (b'{"id": "\xed\xa0\x80"}', "not UTF-8"),  # encoded surrogate
        (b'{"n": ' + b"1" * 5000 + b"}", "not valid JSON"),  # past the int-digit limit
        (b"", "not valid JSON"),
        (_nested(65), "deeper than 64"),
        (b"[" * 100_000 + b"]" * 100_000, "deeper than 64"),
        (b'{"a": ' * 100_000, "deeper than 64"),
        (b'"' + b"[" * 100_000, "deeper than 64"),  # unterminated string counts
    ],
)
def test_t30_t33_strict_json(body: bytes, reason: str) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError, match=reason):
        parse_document(body)
    assert time.monotonic() - started < 0.5


def test_t30_nesting_up_to_the_limit_and_brackets_in_strings_are_fine() -> None:
    assert parse_document(_nested(64))["id"] == "x"
    text = '{"id": "x", "content": "' + "[{" * 1000 + '\\"]"}'
    assert parse_document(text.encode())["content"].startswith("[{[{")
