"""Which URLs and IP addresses fedgroups may contact: the SSRF guard's rules (T23-T27).

Everything outbound goes through `check_url` (syntax) and `resolve_public` (addresses).
"""

from __future__ import annotations

import asyncio
import re
import socket
import unicodedata
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import NamedTuple
from urllib.parse import SplitResult, urlsplit

import httpx
import idna

from fedgroups.errors import FetchError, UnsafeAddress

ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}

# IANA IPv4 special-purpose registry, listed explicitly: CPython's is_private/is_global
# change between releases and, on 3.11, 100.64.0.1 is neither private nor global (T23).
_V4_DENIED = tuple(
    IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches local services (Lemmy GHSA-q537)
        "10.0.0.0/8",
        "100.64.0.0/10",  # CGNAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata at 169.254.169.254
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # TEST-NET-1
        "192.88.99.0/24",  # 6to4 relay anycast (deprecated)
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # TEST-NET-2
        "203.0.113.0/24",  # TEST-NET-3
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, includes 255.255.255.255
    )
)

# Only global unicast 2000::/3 is acceptable for IPv6; inside it these are not peers.
_V6_GLOBAL_UNICAST = IPv6Network("2000::/3")
_V6_DENIED = tuple(
    IPv6Network(n)
    for n in (
        "2001::/23",  # IETF protocol assignments (Teredo 2001::/32 is unwrapped first)
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation (RFC 9637)
    )
)
# Forms that carry an IPv4 address: judged by that address, not by the wrapper.
_V6_COMPATIBLE = IPv6Network("::/96")  # ::a.b.c.d (deprecated), also :: and ::1
_V6_NAT64 = IPv6Network("64:ff9b::/96")
# Local-use NAT64 (RFC 8215) is by definition not globally reachable: refuse outright.
_V6_NAT64_LOCAL = IPv6Network("64:ff9b:1::/48")
_V6_TEREDO = IPv6Network("2001::/32")

_HOST_LABELS = re.compile(r"^[a-z0-9_-]{1,63}(\.[a-z0-9_-]{1,63})*$")


class CheckedURL(NamedTuple):
    """A URL that passed `check_url`: normalised parts plus the canonical string."""

    scheme: str
    host: str  # lower-case A-label, or bare IP text (no brackets)
    port: int  # explicit or the scheme's default
    parts: SplitResult  # canonical parts; geturl() gives the string to request

    @property
    def url(self) -> str:
        return self.parts.geturl()

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)


def is_public_address(ip: IPv4Address | IPv6Address) -> bool:
    """True only for globally routable unicast space, after unwrapping embedded IPv4."""
    if isinstance(ip, IPv4Address):
        return not any(ip in net for net in _V4_DENIED)
    embedded = _embedded_v4(ip)
    if embedded is not None:
        return all(is_public_address(v4) for v4 in embedded)
    if ip in _V6_NAT64_LOCAL or ip.scope_id:
        return False
    if ip not in _V6_GLOBAL_UNICAST or any(ip in net for net in _V6_DENIED):
        return False
    return ip.is_global  # second opinion; never the only one


def _embedded_v4(ip: IPv6Address) -> tuple[IPv4Address, ...] | None:
    """The IPv4 address(es) an IPv6 form stands for, or None for a native IPv6 address."""
    if ip.ipv4_mapped is not None:
        return (ip.ipv4_mapped,)
    if ip in _V6_COMPATIBLE or ip in _V6_NAT64:
        # :: and ::1 land in 0.0.0.0/8 and are refused with it.
        return (IPv4Address(int(ip) & 0xFFFFFFFF),)
    if ip.sixtofour is not None:
        return (ip.sixtofour,)
    if ip in _V6_TEREDO and ip.teredo is not None:
        return ip.teredo  # (server, client): both must be public
    return None


def check_url(url: str) -> CheckedURL:
    """Validate an outbound URL's syntax and normalise it; raise UnsafeAddress if refused."""
    if not isinstance(url, str) or not url:
        raise UnsafeAddress("URL must be a non-empty string")
    _refuse_bad_characters(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeAddress(f"URL cannot be parsed: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise UnsafeAddress(f"scheme {scheme or '(none)'!r} is not allowed, only http/https")
    if "@" in parts.netloc:
        raise UnsafeAddress("URLs with user information are not allowed")
    host, netloc_host = _normalise_host(parts.hostname or "")
    if port == 0:
        raise UnsafeAddress("port 0 is not allowed")
    default = DEFAULT_PORTS[scheme]
    netloc = netloc_host if port in (None, default) else f"{netloc_host}:{port}"
    canonical = SplitResult(scheme, netloc, parts.path or "/", parts.query, parts.fragment)
    checked = CheckedURL(scheme, host, port or default, canonical)
    _same_for_the_client(checked)
    return checked


def origin_of(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL, from the same parse that `check_url` makes (T08)."""
    return check_url(url).origin


def _same_for_the_client(checked: CheckedURL) -> None:
    # The HTTP client parses the URL again; both parsers must agree on the origin, or
    # the origin checked here would not be the one contacted (T08, T25).
    try:
        theirs = httpx.URL(checked.url)
        origin = (theirs.scheme, theirs.raw_host.decode("ascii"), theirs.port)
    except (httpx.InvalidURL, UnicodeError) as exc:
        raise UnsafeAddress(f"URL refused by the HTTP client: {exc}") from exc
    port = None if checked.port == DEFAULT_PORTS[checked.scheme] else checked.port
    if origin != (checked.scheme, checked.host, port):
        raise UnsafeAddress(f"URL parsers disagree on {checked.url!r}")


def _refuse_bad_characters(url: str) -> None:
    # CR/LF and friends must never reach a request line or header (T25, CVE-2023-42450);
    # backslashes are read as "/" by some parsers and not by others.
    for ch in url:
        if ch == "\\" or ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            raise UnsafeAddress(f"URL contains a forbidden character U+{ord(ch):04X}")


def _normalise_host(raw: str) -> tuple[str, str]:
    """Return (host, host as written in a netloc) or raise UnsafeAddress."""
    host = raw[:-1] if raw.endswith(".") else raw  # one trailing dot names the same host
    if not host:
        raise UnsafeAddress("URL has no host")
    if ":" in host:  # urlsplit only yields a colon for a bracketed IPv6 literal
        try:
            if "%" in host:  # zone ids (fe80::1%25eth0) name an interface, never a peer
                raise ValueError("zone id")
            ip = IPv6Address(host)
        except ValueError as exc:
            raise UnsafeAddress(f"invalid IPv6 literal {host!r}") from exc
        return ip.compressed, f"[{ip.compressed}]"
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise UnsafeAddress(f"host {raw!r} is not a valid domain name") from exc
    host = host.lower()
    if len(host) > 253 or not _HOST_LABELS.match(host):
        raise UnsafeAddress(f"host {raw!r} is not a valid domain name")
    return host, host


async def resolve_public(host: str, port: int, *, allow_private: bool) -> list[str]:
    """Resolve `host` once and return its addresses, all vetted as public.

    One non-public answer refuses the whole host rather than picking a good one: a name
    that mixes public and internal answers is hostile or misconfigured (T23, T24).
    Numeric forms such as ``127.1``, ``0x7f.1`` or ``2130706433`` go through the same
    system resolver that a connect would use, so they are judged as what they dial.
    """
    addresses = await _getaddrinfo(host.strip("[]"), port)
    if not addresses:
        raise FetchError(f"{host} has no addresses")
    if not allow_private:
        for text in addresses:
            if not _text_is_public(text):
                raise UnsafeAddress(f"{host} resolves to non-public address {text}")
    return addresses


async def _getaddrinfo(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {exc}") from exc
    seen: dict[str, None] = {}
    for family, _type, _proto, _canon, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            seen.setdefault(str(sockaddr[0]), None)
    return list(seen)


def _text_is_public(text: str) -> bool:
    try:
        return is_public_address(ip_address(text))
    except ValueError:  # scoped or otherwise odd answers are not peers
        return False
