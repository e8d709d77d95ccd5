"""Address and URL rules of the SSRF guard (T08, T23, T24, T25)."""

from __future__ import annotations

import sys
from ipaddress import ip_address

import pytest

from fedgroups.errors import FetchError, UnsafeAddress
from fedgroups.federation.addresses import check_url, is_public_address, origin_of, resolve_public

from .conftest import FakeDNS

# Every address of T23 plus the rest of the special-purpose registries.
INTERNAL = [
    "127.0.0.1",
    "127.255.255.254",
    "0.0.0.0",
    "0.1.2.3",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "100.64.0.1",  # CGNAT: neither private nor global on CPython 3.11
    "100.127.255.255",
    "169.254.169.254",  # cloud metadata
    "192.0.0.8",
    "192.0.2.1",
    "198.51.100.7",
    "203.0.113.9",
    "198.18.0.1",
    "198.19.255.255",
    "192.88.99.1",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "::127.0.0.1",  # IPv4-compatible: is_global is True on CPython 3.11
    "::169.254.169.254",
    "64:ff9b::7f00:1",  # NAT64: is_global is True on CPython 3.11
    "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::1",  # local-use NAT64
    "64:ff9b:1:7f00:0:1::",
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo, client 192.0.2.45
    "2001:0:7f00:1:0:0:0:1",  # Teredo with server 127.0.0.1
    "2001:db8::1",
    "3fff::1",
    "2001:10::1",
    "2001:2::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "fec0::1",  # site-local
    "ff02::1",
    "ff0e::1",
    "100::1",  # discard-only
    "::ffff:0:7f00:1",  # IPv4-translated
]

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.215.14",
    "100.128.0.1",  # just past CGNAT
    "172.32.0.1",  # just past 172.16/12
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
    "2001:0:808:808:0:0:f7f7:f7f7",  # Teredo, server 8.8.8.8, client 8.8.8.8
]


@pytest.mark.parametrize("text", INTERNAL)
def test_t23_internal_addresses_are_refused(text: str) -> None:
    assert is_public_address(ip_address(text)) is False


@pytest.mark.parametrize("text", PUBLIC)
def test_t23_public_addresses_are_allowed(text: str) -> None:
    assert is_public_address(ip_address(text)) is True


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="pins the deployed interpreter")
def test_t23_stdlib_flags_alone_would_let_these_through() -> None:
    # Why the guard lists networks itself: the deployed CPython calls these global.
    assert ip_address("::127.0.0.1").is_global
    assert ip_address("64:ff9b::7f00:1").is_global
    cgnat = ip_address("100.64.0.1")
    assert not cgnat.is_private and not cgnat.is_global


NUMERIC_LOOPBACK_HOSTS = [
    "127.1",
    "0x7f.1",
    "2130706433",
    "127.0.0.2",
    "localhost",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[::127.0.0.1]",
    "[64:ff9b::7f00:1]",
    "0.0.0.0",
    "[::]",
]


@pytest.mark.parametrize("host", NUMERIC_LOOPBACK_HOSTS)
async def test_t23_numeric_and_local_hostnames_pass_syntax_but_not_resolution(
    host: str,
) -> None:
    checked = check_url(f"http://{host}:8080/actor")
    with pytest.raises(UnsafeAddress, match="non-public"):
        await resolve_public(checked.host, checked.port, allow_private=False)
    assert await resolve_public(checked.host, checked.port, allow_private=True)


async def test_t24_one_internal_answer_refuses_the_whole_host(
    outbound_fake_dns: FakeDNS,
) -> None:
    outbound_fake_dns.set("mixed.evil.test", ["93.184.215.14", "127.0.0.1"])
    with pytest.raises(UnsafeAddress, match=r"127\.0\.0\.1"):
        await resolve_public("mixed.evil.test", 443, allow_private=False)


async def test_resolve_public_returns_vetted_answers_once_each(
    outbound_fake_dns: FakeDNS,
) -> None:
    outbound_fake_dns.set("peer.test", ["93.184.215.14", "2606:4700::1", "93.184.215.14"])
    found = await resolve_public("peer.test", 443, allow_private=False)
    assert found == ["93.184.215.14", "2606:4700::1"]
    assert outbound_fake_dns.lookups["peer.test"] == 1


async def test_unresolvable_host_is_a_fetch_error_not_an_unsafe_address() -> None:
    with pytest.raises(FetchError) as caught:
        await resolve_public("no-such-host.invalid", 443, allow_private=False)
    assert not isinstance(caught.value, UnsafeAddress)


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://peer.test/users/rosa", "https://peer.test/users/rosa"),
        ("HTTPS://PEER.Test./users/rosa", "https://peer.test/users/rosa"),
        ("https://peer.test:443/a?b=1#k", "https://peer.test/a?b=1#k"),
        ("http://peer.test:80", "http://peer.test/"),
        ("https://peer.test:8443/x", "https://peer.test:8443/x"),
        ("https://Bücher.example/x", "https://xn--bcher-kva.example/x"),
        ("http://[::FFFF:127.0.0.1]:81/", "http://[::ffff:7f00:1]:81/"),
    ],
)
def test_check_url_normalises(url: str, canonical: str) -> None:
    assert check_url(url).url == canonical


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://peer.test:70/_x",
        "ftp://peer.test/x",
        "data:application/activity+json,{}",
        "javascript:alert(1)",
        "ws://peer.test/socket",
        "wss://peer.test/socket",
        "//peer.test/no-scheme",
        "peer.test/relative",
        "",
    ],
)
def test_t25_only_http_and_https(url: str) -> None:
    with pytest.raises(UnsafeAddress):
        check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://peer.test/a\r\nX-Injected: 1",
        "https://peer.test/a\nb",
        "https://peer.test/a\rb",
        "https://peer.test/a b",
        "https://peer.test/a\tb",
        " https://peer.test/a",
        "https://peer.test/a\x00",
        "https://peer.test/a\x7f",
        "https://peer.test\\@evil.test/",
        "https://peer.test/a\u2028b",
        "https://peer.test/a\u200bb",  # zero-width space
        "https://peer.test/a\u00a0b",
        "https://rosa@peer.test/",
        "https://rosa:pw@peer.test/",
        "https://evil.test@peer.test/",
        "https:///path-only",
        "https://peer.test:0/",
        "https://peer.test:99999/",
        "https://peer.test:port/",
        "https://peer..test/",
        "https://peer.test%2fevil.test/",
        "https://[fe80::1%25eth0]/",
        "https://[not-an-ip]/",
        "https://" + "a" * 64 + ".test/",
        "http://0177.0.0.1/",  # the system resolver reads octal, httpx refuses it
    ],
)
def test_t25_injection_and_parser_differential_shapes_are_refused(url: str) -> None:
    with pytest.raises(UnsafeAddress):
        check_url(url)


def test_t08_origin_comes_from_one_parse() -> None:
    assert origin_of("https://peer.test/users/rosa") == ("https", "peer.test", 443)
    assert origin_of("HTTPS://Peer.Test.:443/x") == origin_of("https://peer.test/y")
    assert origin_of("http://peer.test/") != origin_of("https://peer.test/")
    assert origin_of("https://peer.test:8443/") != origin_of("https://peer.test/")
    # CVE-2023-42451: a path segment must never become part of the host.
    assert origin_of("https://mastodon.so/cial") != origin_of("https://mastodon.social/")
