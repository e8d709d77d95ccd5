"""The instance's outbound client: guard at connect time, on real sockets (T23-T26, T28)."""

from __future__ import annotations

import socket

import httpcore
import httpx
import pytest

from fedgroups.errors import UnsafeAddress
from fedgroups.federation.http import GuardedBackend, build_client

from .conftest import FakeDNS, LocalServer, Reply, RoutingDialer, ServerFactory, TLSPair

UA = "fedgroups/0.1.0 (+https://groups.test/)"
OK = {"/": Reply(body=b"ok"), "/inbox": Reply(status=202)}
PUBLIC_IP = "93.184.215.14"  # routed to 127.0.0.1 by RoutingDialer; never really dialled


def _can_bind(host: str) -> bool:
    try:
        with socket.socket() as sock:
            sock.bind((host, 0))
    except OSError:
        return False
    return True


async def test_client_is_configured_as_specified() -> None:
    client = build_client(allow_private_peers=False, user_agent=UA, max_connections=30)
    async with client:
        assert client.headers["User-Agent"] == UA
        assert client.follow_redirects is False
        assert client.timeout == httpx.Timeout(connect=5.0, read=10.0, write=10.0, pool=10.0)
        # Wiring check: if httpx stops using `_pool`, this fails instead of the guard
        # silently disappearing.
        pool = client._transport._pool  # type: ignore[attr-defined]
        assert isinstance(pool, httpcore.AsyncConnectionPool)
        assert isinstance(pool._network_backend, GuardedBackend)
        assert pool._network_backend.allow_private is False
        assert (pool._max_connections, pool._max_keepalive_connections) == (30, 20)
        assert (pool._http1, pool._http2) == (True, False)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "127.1",
        "0x7f.1",
        "2130706433",
        "0177.0.0.1",
        "[::ffff:127.0.0.1]",
        "[::127.0.0.1]",
        "[64:ff9b::7f00:1]",
        "[::1]",
    ],
)
async def test_t23_no_connection_reaches_a_loopback_listener(
    outbound_server: ServerFactory, host: str
) -> None:
    server = await outbound_server(OK)
    async with build_client(allow_private_peers=False, user_agent=UA) as client:
        # httpx itself rejects octal "0177.0.0.1" as a URL; either way nothing connects.
        with pytest.raises((UnsafeAddress, httpx.InvalidURL)):
            await client.get(f"http://{host}:{server.port}/")
    assert server.connections == 0


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
async def test_t23_allow_private_peers_reaches_the_same_listener(
    outbound_server: ServerFactory, name: str
) -> None:
    server = await outbound_server(OK)
    async with build_client(allow_private_peers=True, user_agent=UA) as client:
        response = await client.get(server.url("/", name=name))
    assert response.status_code == 200
    assert server.connections == 1
    assert server.requests[0].headers["user-agent"] == UA


@pytest.mark.skipif(not _can_bind("127.0.0.2"), reason="127.0.0.2 not bindable here")
async def test_t23_second_loopback_address_is_refused_too(outbound_server: ServerFactory) -> None:
    server = await outbound_server(OK, host="127.0.0.2")
    async with build_client(allow_private_peers=False, user_agent=UA) as client:
        with pytest.raises(UnsafeAddress):
            await client.get(server.url("/"))
    assert server.connections == 0
    async with build_client(allow_private_peers=True, user_agent=UA) as client:
        assert (await client.get(server.url("/"))).status_code == 200
    assert server.connections == 1


@pytest.mark.parametrize(
    "answer", ["169.254.169.254", "10.0.0.1", "100.64.0.1", "::1", "64:ff9b::a9fe:a9fe"]
)
async def test_t23_names_resolving_inward_are_never_dialled(
    outbound_fake_dns: FakeDNS, outbound_dialer: RoutingDialer, answer: str
) -> None:
    outbound_fake_dns.set("inward.evil.test", [answer])
    client = build_client(allow_private_peers=False, user_agent=UA, dialer=outbound_dialer)
    async with client:
        with pytest.raises(UnsafeAddress, match="non-public"):
            await client.get("https://inward.evil.test/actor")
    assert outbound_dialer.dialled == []


async def test_t24_rebinding_dials_only_the_vetted_address(
    outbound_server: ServerFactory, outbound_fake_dns: FakeDNS
) -> None:
    server = await outbound_server(OK)
    # First lookup answers public, any later one answers loopback.
    outbound_fake_dns.set("rebind.evil.test", [PUBLIC_IP], ["127.0.0.1"])
    dialer = RoutingDialer({PUBLIC_IP: "127.0.0.1"})
    url = f"http://rebind.evil.test:{server.port}/"
    async with build_client(allow_private_peers=False, user_agent=UA, dialer=dialer) as client:
        response = await client.get(url)
        assert response.status_code == 200
        # One resolution for the connection, and the dial went to the address it vetted.
        assert outbound_fake_dns.lookups["rebind.evil.test"] == 1
        assert dialer.dialled == [(PUBLIC_IP, server.port)]
        assert server.requests[0].headers["host"] == f"rebind.evil.test:{server.port}"
        # The server closed the connection, so the next request resolves again and now
        # sees loopback: refused, and loopback is never dialled.
        with pytest.raises(UnsafeAddress):
            await client.get(url)
    assert outbound_fake_dns.lookups["rebind.evil.test"] == 2
    assert dialer.dialled == [(PUBLIC_IP, server.port)]
    assert server.connections == 1


async def test_t24_tls_keeps_the_peer_name_while_dialling_the_vetted_ip(
    outbound_server: ServerFactory, outbound_fake_dns: FakeDNS, outbound_tls: TLSPair
) -> None:
    # The certificate names only peer.test: verification passes only if SNI and the
    # hostname check use the name, not the IP that was dialled.
    server = await outbound_server(OK, tls=outbound_tls.server)
    outbound_fake_dns.set("peer.test", [PUBLIC_IP])
    dialer = RoutingDialer({PUBLIC_IP: "127.0.0.1"})
    client = build_client(
        allow_private_peers=False, user_agent=UA, ssl_context=outbound_tls.client, dialer=dialer
    )
    async with client:
        response = await client.get(server.url("/", name="peer.test", scheme="https"))
    assert response.status_code == 200
    assert outbound_tls.server_names == ["peer.test"]
    assert server.requests[0].headers["host"] == f"peer.test:{server.port}"
    assert dialer.dialled == [(PUBLIC_IP, server.port)]


@pytest.mark.parametrize(
    "url",
    ["ws://127.0.0.1:{port}/", "wss://127.0.0.1:{port}/", "ftp://127.0.0.1:{port}/"],
)
async def test_t25_non_http_schemes_refused_even_with_private_peers_allowed(
    outbound_server: ServerFactory, url: str
) -> None:
    server = await outbound_server(OK)
    async with build_client(allow_private_peers=True, user_agent=UA) as client:
        with pytest.raises((UnsafeAddress, httpx.UnsupportedProtocol)):
            await client.get(url.format(port=server.port))
    assert server.connections == 0


async def test_t25_environment_proxies_are_ignored(
    outbound_server: ServerFactory,
    outbound_fake_dns: FakeDNS,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A proxy would resolve names itself, outside the guard.
    proxy = await outbound_server(OK)
    monkeypatch.setenv("HTTP_PROXY", proxy.url("/"))
    monkeypatch.setenv("ALL_PROXY", proxy.url("/"))
    outbound_fake_dns.set("inward.evil.test", ["127.0.0.1"])
    async with build_client(allow_private_peers=False, user_agent=UA) as client:
        with pytest.raises(UnsafeAddress):
            await client.get("http://inward.evil.test/")
    assert proxy.connections == 0


@pytest.mark.parametrize(
    "inbox",
    [
        "http://169.254.169.254/latest/",
        "http://127.0.0.1:6379/",
        "http://[::1]:6379/",
        "https://rosa-inbox.peer.test/inbox",  # a name that now resolves inward
    ],
)
async def test_t26_delivery_post_to_internal_inbox_is_never_attempted(
    outbound_fake_dns: FakeDNS, outbound_dialer: RoutingDialer, inbox: str
) -> None:
    outbound_fake_dns.set("rosa-inbox.peer.test", ["127.0.0.1"])
    client = build_client(allow_private_peers=False, user_agent=UA, dialer=outbound_dialer)
    async with client:
        # UnsafeAddress (not an httpx.TransportError) tells delivery code the failure is
        # permanent for this inbox rather than worth a retry.
        with pytest.raises(UnsafeAddress):
            await client.post(
                inbox,
                content=b'{"type": "Announce"}',
                headers={"Content-Type": "application/activity+json"},
            )
    assert outbound_dialer.dialled == []


async def test_t26_delivery_post_never_reaches_a_local_listener(
    outbound_server: ServerFactory,
) -> None:
    server = await outbound_server(OK)
    async with build_client(allow_private_peers=False, user_agent=UA) as client:
        with pytest.raises(UnsafeAddress):
            await client.post(server.url("/inbox"), content=b"{}")
    assert server.connections == 0


async def test_t28_head_requests_pass_the_same_guard(
    outbound_server: ServerFactory, outbound_fake_dns: FakeDNS
) -> None:
    server = await outbound_server(OK)
    outbound_fake_dns.set("preview.evil.test", ["127.0.0.1"])
    async with build_client(allow_private_peers=False, user_agent=UA) as client:
        for url in (server.url("/"), f"http://preview.evil.test:{server.port}/"):
            with pytest.raises(UnsafeAddress):
                await client.head(url)
    assert server.connections == 0


async def test_dns_failure_is_transient_not_unsafe(outbound_dialer: RoutingDialer) -> None:
    client = build_client(allow_private_peers=False, user_agent=UA, dialer=outbound_dialer)
    async with client:
        with pytest.raises(httpx.ConnectError, match="cannot resolve"):
            await client.get("https://no-such-host.invalid/actor")
    assert outbound_dialer.dialled == []


async def test_each_vetted_address_is_tried_in_turn(
    outbound_server: LocalServer, outbound_fake_dns: FakeDNS
) -> None:
    server = await outbound_server(OK)  # type: ignore[operator]
    outbound_fake_dns.set("peer.test", ["2606:4700::1", PUBLIC_IP])
    dialer = RoutingDialer({PUBLIC_IP: "127.0.0.1"})  # the IPv6 answer has no route
    async with build_client(allow_private_peers=False, user_agent=UA, dialer=dialer) as client:
        response = await client.get(server.url("/", name="peer.test"))
    assert response.status_code == 200
    assert dialer.dialled == [("2606:4700::1", server.port), (PUBLIC_IP, server.port)]
