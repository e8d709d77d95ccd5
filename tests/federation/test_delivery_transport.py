"""The delivery client (httpx over aiohttp) keeps every rule of the guarded client (T23-T28).

Each rule is checked on both of its paths: httpx's `post`, and `post_capped`, the direct path
signed deliveries take (`post_signed`). Real sockets throughout. `RoutingLoop` plays the part
`RoutingDialer` plays for the httpcore client: it records every address aiohttp dials and
routes chosen public IPs to loopback.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from fedgroups.errors import UnsafeAddress
from fedgroups.federation.http import build_delivery_client
from fedgroups.federation.signatures import MAX_REPLY_BYTES, SchemePreferences, post_signed

from .conftest import FakeDNS, Reply, ServerFactory, TLSPair

UA = "fedgroups/0.1.0 (+https://groups.test/)"
OK = {"/": Reply(body=b"ok"), "/inbox": Reply(status=202)}
PUBLIC_IP = "93.184.215.14"  # routed to 127.0.0.1 by RoutingLoop; never really dialled
ACTIVITY = b'{"type": "Announce"}'


class RoutingLoop:
    """Wraps the running loop's `sock_connect`: records dials, refuses unrouted addresses."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.routes: dict[str, str] = {}
        self.dialled: list[tuple[str, int]] = []

    async def sock_connect(self, sock: socket.socket, address: tuple[Any, ...]) -> None:
        host, port = str(address[0]), int(address[1])
        self.dialled.append((host, port))
        if host not in self.routes:
            raise ConnectionRefusedError(f"test network has no route to {host}")
        await self._real(sock, (self.routes[host], port))


@pytest.fixture
async def routing(monkeypatch: pytest.MonkeyPatch) -> RoutingLoop:
    loop = asyncio.get_running_loop()
    routing = RoutingLoop(loop.sock_connect)
    monkeypatch.setattr(loop, "sock_connect", routing.sock_connect)
    return routing


def client(*, allow_private: bool = False, **options: Any) -> Any:
    return build_delivery_client(allow_private_peers=allow_private, user_agent=UA, **options)


Post = Callable[[Any, str], Awaitable[Any]]


@pytest.fixture(params=["httpx", "direct"])
def post(request: pytest.FixtureRequest) -> Post:
    """POSTs the activity through one of the delivery client's two paths."""
    if request.param == "httpx":

        async def through_httpx(sender: Any, url: str) -> Any:
            return await sender.post(url, content=ACTIVITY)

        return through_httpx

    async def direct(sender: Any, url: str) -> Any:
        return await sender.post_capped(url, ACTIVITY, {}, MAX_REPLY_BYTES)

    return direct


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "127.1",
        "2130706433",
        "[::ffff:127.0.0.1]",
        "[::127.0.0.1]",
        "[64:ff9b::7f00:1]",
        "[::1]",
    ],
)
async def test_t23_no_delivery_reaches_a_loopback_listener(
    outbound_server: ServerFactory, host: str, post: Post
) -> None:
    server = await outbound_server(OK)
    async with client() as guarded:
        with pytest.raises(UnsafeAddress):
            await post(guarded, f"http://{host}:{server.port}/inbox")
    assert server.connections == 0


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
async def test_t23_allow_private_peers_reaches_the_same_listener(
    outbound_server: ServerFactory, name: str, post: Post
) -> None:
    server = await outbound_server(OK)
    async with client(allow_private=True) as open_client:
        response = await post(open_client, server.url("/inbox", name=name))
    assert response.status_code == 202
    assert server.connections == 1
    assert server.requests[0].headers["user-agent"] == UA


@pytest.mark.parametrize("answer", ["169.254.169.254", "10.0.0.1", "::1", "64:ff9b::a9fe:a9fe"])
async def test_t23_names_resolving_inward_are_never_dialled(
    outbound_fake_dns: FakeDNS, routing: RoutingLoop, answer: str, post: Post
) -> None:
    outbound_fake_dns.set("inward.evil.test", [answer])
    async with client() as guarded:
        with pytest.raises(UnsafeAddress, match="non-public"):
            await post(guarded, "https://inward.evil.test/inbox")
    assert routing.dialled == []


async def test_t24_rebinding_dials_only_the_vetted_address(
    outbound_server: ServerFactory, outbound_fake_dns: FakeDNS, routing: RoutingLoop, post: Post
) -> None:
    server = await outbound_server(OK)
    outbound_fake_dns.set("rebind.evil.test", [PUBLIC_IP], ["127.0.0.1"])
    routing.routes[PUBLIC_IP] = "127.0.0.1"
    url = f"http://rebind.evil.test:{server.port}/inbox"
    async with client() as guarded:
        assert (await post(guarded, url)).status_code == 202
        assert outbound_fake_dns.lookups["rebind.evil.test"] == 1
        assert routing.dialled == [(PUBLIC_IP, server.port)]
        assert server.requests[0].headers["host"] == f"rebind.evil.test:{server.port}"
        # The server closed the connection: the next one resolves again, sees loopback.
        with pytest.raises(UnsafeAddress):
            await post(guarded, url)
    assert outbound_fake_dns.lookups["rebind.evil.test"] == 2
    assert routing.dialled == [(PUBLIC_IP, server.port)]
    assert server.connections == 1


async def test_t24_tls_keeps_the_peer_name_while_dialling_the_vetted_ip(
    outbound_server: ServerFactory,
    outbound_fake_dns: FakeDNS,
    outbound_tls: TLSPair,
    routing: RoutingLoop,
    post: Post,
) -> None:
    server = await outbound_server(OK, tls=outbound_tls.server)
    outbound_fake_dns.set("peer.test", [PUBLIC_IP])
    routing.routes[PUBLIC_IP] = "127.0.0.1"
    async with client(ssl_context=outbound_tls.client) as guarded:
        url = server.url("/inbox", name="peer.test", scheme="https")
        assert (await post(guarded, url)).status_code == 202
    assert outbound_tls.server_names == ["peer.test"]
    assert server.requests[0].headers["host"] == f"peer.test:{server.port}"
    assert routing.dialled == [(PUBLIC_IP, server.port)]


async def test_each_vetted_address_is_tried_in_turn(
    outbound_server: ServerFactory, outbound_fake_dns: FakeDNS, routing: RoutingLoop, post: Post
) -> None:
    server = await outbound_server(OK)
    outbound_fake_dns.set("peer.test", ["2606:4700::1", PUBLIC_IP])
    routing.routes[PUBLIC_IP] = "127.0.0.1"  # the IPv6 answer has no route
    async with client() as guarded:
        response = await post(guarded, server.url("/inbox", name="peer.test"))
    assert response.status_code == 202
    assert routing.dialled == [("2606:4700::1", server.port), (PUBLIC_IP, server.port)]


@pytest.mark.parametrize("scheme", ["ws", "wss", "ftp"])
async def test_t25_non_http_schemes_refused_even_with_private_peers_allowed(
    outbound_server: ServerFactory, scheme: str, post: Post
) -> None:
    server = await outbound_server(OK)
    async with client(allow_private=True) as open_client:
        with pytest.raises((UnsafeAddress, httpx.UnsupportedProtocol)):
            await post(open_client, f"{scheme}://127.0.0.1:{server.port}/")
    assert server.connections == 0


async def test_t25_environment_proxies_are_ignored(
    outbound_server: ServerFactory,
    outbound_fake_dns: FakeDNS,
    monkeypatch: pytest.MonkeyPatch,
    post: Post,
) -> None:
    proxy = await outbound_server(OK)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy.url("/"))
    outbound_fake_dns.set("inward.evil.test", ["127.0.0.1"])
    async with client() as guarded:
        with pytest.raises(UnsafeAddress):
            await post(guarded, "http://inward.evil.test/inbox")
    assert proxy.connections == 0


async def test_dns_failure_is_transient_not_unsafe(routing: RoutingLoop, post: Post) -> None:
    async with client() as guarded:
        with pytest.raises(httpx.ConnectError, match="cannot resolve"):
            await post(guarded, "https://no-such-host.invalid/inbox")
    assert routing.dialled == []


async def test_redirects_are_returned_not_followed(
    outbound_server: ServerFactory, post: Post
) -> None:
    target = await outbound_server(OK)
    moved = Reply(status=302, headers=[("Location", target.url("/inbox"))])
    server = await outbound_server({"/inbox": moved})
    async with client(allow_private=True) as open_client:
        response = await post(open_client, server.url("/inbox"))
    assert response.status_code == 302
    assert target.connections == 0


async def test_t71c_an_endless_reply_costs_only_the_cap(
    outbound_server: ServerFactory, rsa_key: Any
) -> None:
    huge = Reply(status=400, body=b"x" * 100_000, content_length=50_000_000, hold_open=True)
    server = await outbound_server({"/inbox": huge})
    async with client(allow_private=True) as open_client, asyncio.timeout(10):
        response = await post_signed(
            open_client, server.url("/inbox"), ACTIVITY, "k#1", rsa_key, SchemePreferences()
        )
    assert response.status_code == 400
    assert len(response.content) == MAX_REPLY_BYTES


async def test_t34_compressed_replies_stay_compressed(
    outbound_server: ServerFactory, rsa_key: Any
) -> None:
    packed = gzip.compress(b"x" * 1_000_000)
    reply = Reply(status=202, headers=[("Content-Encoding", "gzip")], body=packed)
    server = await outbound_server({"/inbox": reply})
    async with client(allow_private=True) as open_client:
        response = await post_signed(
            open_client, server.url("/inbox"), ACTIVITY, "k#1", rsa_key, SchemePreferences()
        )
    assert response.status_code == 202
    assert response.content == packed[:MAX_REPLY_BYTES]


async def test_a_silent_peer_times_out_as_a_read_timeout(
    outbound_server: ServerFactory, post: Post
) -> None:
    async def never(_request: Any) -> Reply:
        await asyncio.sleep(3600)
        raise AssertionError

    server = await outbound_server(never)
    async with client(allow_private=True, timeout=httpx.Timeout(0.3)) as open_client:
        with pytest.raises(httpx.ReadTimeout):
            await post(open_client, server.url("/inbox"))


async def test_the_direct_path_reply_keeps_retry_after_and_drops_framing(
    outbound_server: ServerFactory,
) -> None:
    busy = Reply(status=503, headers=[("Retry-After", "7")], body=b"busy")
    server = await outbound_server({"/inbox": busy})
    async with client(allow_private=True) as open_client:
        reply = await open_client.post_capped(server.url("/inbox"), ACTIVITY, {}, MAX_REPLY_BYTES)
    assert (reply.status_code, reply.content) == (503, b"busy")
    assert reply.headers["retry-after"] == "7"
    assert "content-length" not in reply.headers
    assert server.requests[0].headers["user-agent"] == UA


async def test_a_refused_connection_is_a_connect_error(routing: RoutingLoop, post: Post) -> None:
    async with client(allow_private=True) as open_client:
        with pytest.raises(httpx.ConnectError):
            await post(open_client, "http://127.0.0.1:9/inbox")
    assert routing.dialled == [("127.0.0.1", 9)]


async def test_cookies_a_peer_sets_are_never_sent_back(
    outbound_server: ServerFactory, post: Post
) -> None:
    setter = Reply(status=202, headers=[("Set-Cookie", "session=abc; Path=/")])
    server = await outbound_server({"/inbox": setter})
    async with client(allow_private=True) as open_client:
        for _ in range(2):
            await post(open_client, server.url("/inbox"))
        assert not open_client.cookies
    assert [request.headers.get("cookie") for request in server.requests] == [None, None]
