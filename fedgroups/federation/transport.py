"""An httpx transport over aiohttp, for deliveries: httpx stays the API, aiohttp moves the bytes.

Delivery POSTs can also skip httpx altogether (`AiohttpTransport.post`): no httpx request or
response is built per delivery, and the reply is read up to a cap straight off aiohttp's stream.
Both paths share the session, the guard, the timeouts and the mapping of errors to httpx's.

httpcore's pool costs 4-16 ms of CPU per request with many requests in flight (its pool
assignment is quadratic, encode/httpcore PR #1035); aiohttp's costs a tenth of that. The SSRF
guard holds here as in `fedgroups.federation.http`: every name is resolved once through
`resolve_public` by `GuardedResolver` and aiohttp dials the vetted addresses themselves (TLS
still checks the peer's name), IP literals are vetted before aiohttp sees them, proxies and
redirects are never followed, and reply bodies stream undecoded so callers can cap them.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from ipaddress import ip_address
from typing import Any

import aiohttp
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from fedgroups.errors import FetchError, UnsafeAddress
from fedgroups.federation.addresses import check_url, is_public_address, resolve_public
from fedgroups.federation.posting import BODY_FRAMING, CappedReply

READ_CHUNK = 16 * 1024
VETTED_URLS = 4096  # inbox URLs whose syntax and literal address were already judged


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver: one lookup per connection, every answer vetted (T23, T24)."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            addresses = await resolve_public(host, port, allow_private=self.allow_private)
        except UnsafeAddress:
            raise  # not an OSError: aiohttp lets it through unwrapped, and callers fail for good
        except FetchError as exc:  # DNS failure: transient, surfaces as httpx.ConnectError
            raise OSError(str(exc)) from exc
        return [_result(host, address, port) for address in addresses]

    async def close(self) -> None:
        return None


def _result(host: str, address: str, port: int) -> ResolveResult:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return {
        "hostname": host,
        "host": address,
        "port": port,
        "family": family,
        "proto": socket.IPPROTO_TCP,
        "flags": socket.AI_NUMERICHOST,
    }


class _Body(httpx.AsyncByteStream):
    """The reply body as it comes off the wire; closing early drops the connection."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped_errors(read=True):
            async for chunk in self._response.content.iter_chunked(READ_CHUNK):
                yield chunk

    async def aclose(self) -> None:
        self._response.release()  # aiohttp closes, not reuses, a connection left unread


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Sends httpx requests through one aiohttp session; created lazily inside the loop."""

    def __init__(
        self,
        *,
        allow_private: bool,
        ssl_context: ssl.SSLContext,
        max_connections: int,
        max_per_host: int,
        keepalive_expiry: float = 5.0,
    ) -> None:
        self.allow_private = allow_private
        self._ssl = ssl_context
        self._limits = (max_connections, max_per_host, keepalive_expiry)
        self._session: aiohttp.ClientSession | None = None
        self._vetted: dict[str, URL] = {}

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None:
            total, per_host, expiry = self._limits
            connector = aiohttp.TCPConnector(
                resolver=GuardedResolver(allow_private=self.allow_private),
                use_dns_cache=False,  # one vetted lookup per connection, nothing stale
                ssl=self._ssl,
                limit=total,
                limit_per_host=per_host,
                keepalive_timeout=expiry,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,  # callers cap the body as sent (T34)
                trust_env=False,  # a proxy would resolve names outside the guard
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        checked = check_url(str(request.url))  # scheme, userinfo, characters (T25)
        self._refuse_private_literal(checked.host)
        body = await request.aread()
        with _mapped_errors(read=False):
            response = await self._session_now().request(
                request.method,
                str(request.url),
                data=body or None,
                headers=list(request.headers.multi_items()),
                allow_redirects=False,
                timeout=_timeout(request.extensions.get("timeout", {})),
            )
        return httpx.Response(
            response.status,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers],
            stream=_Body(response),
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def post(
        self,
        url: str,
        content: bytes,
        headers: Mapping[str, str],
        *,
        timeout: aiohttp.ClientTimeout,
        cap: int,
    ) -> CappedReply:
        """POST without httpx: the same guard, and at most `cap` bytes of the reply, undecoded.

        Errors are mapped to httpx's exactly as `handle_async_request` maps them, so a
        delivery is classified the same whichever path sent it.
        """
        target = self._vetted_url(url)
        with _mapped_errors(read=False):
            response = await self._session_now().post(
                target, data=content, headers=headers, allow_redirects=False, timeout=timeout
            )
        try:
            with _mapped_errors(read=True):
                kept = await _read_capped(response.content, cap)
        finally:
            response.release()  # a body left unread closes the connection instead of reusing it
        return CappedReply(response.status, _without_framing(response.headers), kept)

    def _vetted_url(self, url: str) -> URL:
        """The URL aiohttp is handed, after the checks `handle_async_request` makes.

        Both checks depend on the text alone (a name is vetted by GuardedResolver at every
        connect, not here), so their verdict is kept per inbox URL; refusals are not kept.
        aiohttp's parser must see the host, port and scheme that `check_url` judged.
        """
        target = self._vetted.get(url)
        if target is not None:
            return target
        checked = check_url(url)  # scheme, userinfo, characters (T25)
        try:
            target = URL(checked.url)
        except ValueError as exc:
            raise UnsafeAddress(f"URL refused by the HTTP client: {exc}") from exc
        if (target.scheme, target.host, target.port) != checked.origin:
            raise UnsafeAddress(f"URL parsers disagree on {checked.url!r}")
        self._refuse_private_literal(checked.host)
        if len(self._vetted) >= VETTED_URLS:
            self._vetted.pop(next(iter(self._vetted)))
        self._vetted[url] = target
        return target

    def _refuse_private_literal(self, host: str) -> None:
        """aiohttp dials an IP literal without asking the resolver: vet it here instead.

        A literal that parses is the address dialled, so it is judged without a lookup
        (which would cost a thread hand-off per delivery); odd numeric forms that do not
        parse go to the resolver, which judges them as what they would dial.
        """
        try:
            address = ip_address(host)
        except ValueError:
            return  # a name: GuardedResolver vets it when aiohttp connects
        if not self.allow_private and not is_public_address(address):
            raise UnsafeAddress(f"{host} is a non-public address")

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


async def _read_capped(stream: aiohttp.StreamReader, cap: int) -> bytes:
    """The first `cap` bytes of a body as sent (still compressed, if it was)."""
    kept = b""
    while len(kept) < cap:
        chunk = await stream.read(cap - len(kept))
        if not chunk:
            break
        kept += chunk
    return kept


def _without_framing(headers: CIMultiDictProxy[str]) -> CIMultiDictProxy[str]:
    kept = CIMultiDict((k, v) for k, v in headers.items() if k.lower() not in BODY_FRAMING)
    return CIMultiDictProxy(kept)


def aiohttp_timeout(timeout: httpx.Timeout) -> aiohttp.ClientTimeout:
    """httpx's timeouts as aiohttp's, as `handle_async_request` applies them per request."""
    return _timeout(timeout.as_dict())


def _timeout(spec: dict[str, Any]) -> aiohttp.ClientTimeout:
    connect = spec.get("connect")
    pool = spec.get("pool")
    return aiohttp.ClientTimeout(
        total=None,
        connect=None if connect is None or pool is None else connect + pool,
        sock_connect=connect,
        sock_read=spec.get("read"),
    )


@contextmanager
def _mapped_errors(*, read: bool) -> Iterator[None]:
    """aiohttp's exceptions as the httpx ones callers (delivery classification) expect."""
    try:
        yield
    except (UnsafeAddress, FetchError):
        raise
    except aiohttp.ConnectionTimeoutError as exc:
        raise httpx.ConnectTimeout(str(exc)) from exc
    except aiohttp.SocketTimeoutError as exc:
        raise httpx.ReadTimeout(str(exc)) from exc
    except aiohttp.ServerTimeoutError as exc:
        raise (httpx.ReadTimeout if read else httpx.ConnectTimeout)(str(exc)) from exc
    except aiohttp.ClientConnectorDNSError as exc:
        raise httpx.ConnectError(str(exc.os_error)) from exc  # resolve_public's "cannot resolve"
    except aiohttp.ClientConnectorError as exc:
        raise httpx.ConnectError(str(exc)) from exc
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as exc:
        raise httpx.RemoteProtocolError(str(exc)) from exc
    except aiohttp.InvalidURL as exc:
        raise UnsafeAddress(f"URL refused by the HTTP client: {exc}") from exc
    except TimeoutError as exc:  # an OSError too: before it
        raise (httpx.ReadTimeout if read else httpx.ConnectTimeout)(str(exc)) from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise (httpx.ReadError if read else httpx.ConnectError)(str(exc)) from exc
