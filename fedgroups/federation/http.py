"""The instance's one pooled outbound HTTP client, guarded against SSRF at connect time.

Every request (signed GETs, HEADs, delivery POSTs) dials only addresses vetted by
`fedgroups.federation.addresses`; the check runs on the address actually dialled (T23-T28).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Mapping

import anyio
import httpcore
import httpx
from multidict import CIMultiDict

from fedgroups.errors import FetchError, UnsafeAddress
from fedgroups.federation.addresses import check_url, resolve_public
from fedgroups.federation.posting import CappedPoster, CappedReply
from fedgroups.federation.transport import AiohttpTransport, aiohttp_timeout

TIMEOUT = httpx.Timeout(connect=5.0, read=10.0, write=10.0, pool=10.0)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves each host once, vets every answer, then dials the vetted IP itself.

    Dialling the vetted address (not the name) closes the DNS-rebinding window (T24):
    there is no second lookup between the check and the connect. TLS still uses the
    original name because httpcore passes `server_hostname` to `start_tls` separately,
    and the Host header comes from the URL, so both stay the peer's name.
    """

    def __init__(
        self, *, allow_private: bool, dialer: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self.allow_private = allow_private
        self._dialer = dialer if dialer is not None else httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._resolve(host, port, timeout)
        last_error: Exception | None = None
        for address in addresses:  # tried in resolver order, like a plain connect would
            try:
                return await self._dialer.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None  # resolve_public never returns an empty list
        raise last_error

    async def _resolve(self, host: str, port: int, timeout: float | None) -> list[str]:
        try:
            with anyio.fail_after(timeout):
                return await resolve_public(host, port, allow_private=self.allow_private)
        except UnsafeAddress:
            raise  # permanent: callers must not retry (T26)
        except FetchError as exc:  # DNS failure: transient, surfaces as httpx.ConnectError
            raise httpcore.ConnectError(str(exc)) from exc
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise UnsafeAddress("unix sockets are never used for federation")

    async def sleep(self, seconds: float) -> None:
        await self._dialer.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's default transport with its connection pool dialling through GuardedBackend.

    httpx 0.28 has no public hook for a network backend, so the pool is rebuilt with the
    same limits; `tests/federation/test_http.py` asserts the wiring so an upgrade that
    moves `_pool` fails loudly instead of silently dropping the guard.
    """

    def __init__(
        self, *, backend: GuardedBackend, limits: httpx.Limits, ssl_context: ssl.SSLContext
    ) -> None:
        super().__init__(verify=ssl_context, limits=limits, http1=True, http2=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=backend,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # Scheme, userinfo and character rules hold even with allow_private (T25).
        check_url(str(request.url))
        return await super().handle_async_request(request)


def build_client(
    *,
    allow_private_peers: bool,
    user_agent: str,
    max_connections: int = 100,
    max_keepalive: int = 20,
    ssl_context: ssl.SSLContext | None = None,
    dialer: httpcore.AsyncNetworkBackend | None = None,
) -> httpx.AsyncClient:
    """Build THE outbound client. Close it with `await client.aclose()` at shutdown.

    `allow_private_peers` lifts the address check (local test federations only).
    `ssl_context` replaces the certifi trust store; `dialer` is the backend under the
    guard (tests route dials through a recorder); neither can bypass the guard.
    """
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_keepalive)
    backend = GuardedBackend(allow_private=allow_private_peers, dialer=dialer)
    context = ssl_context if ssl_context is not None else httpx.create_ssl_context()
    transport = GuardedTransport(backend=backend, limits=limits, ssl_context=context)
    # trust_env=False: an HTTP(S)_PROXY variable would move name resolution to the proxy,
    # out of the guard's reach; .netrc credentials must never go to peers either.
    return httpx.AsyncClient(
        transport=transport,
        timeout=TIMEOUT,
        follow_redirects=False,
        headers={"User-Agent": user_agent},
        trust_env=False,
    )


class _NoCookies(httpx.Cookies):
    """A jar that stays empty: what a peer sets is never stored, so never sent back."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class DeliveryClient(httpx.AsyncClient, CappedPoster):
    """httpx's client without a cookie jar: deliveries need none, and reading every
    reply's headers into urllib's cookie machinery was a tenth of a delivery's CPU.

    Signed delivery POSTs take `post_capped`, straight to the aiohttp transport: building
    httpx's request and response objects for each was a quarter of a kept-alive delivery's
    CPU. Other requests (the health probe's GET) go through httpx as before.
    """

    _no_cookies = _NoCookies()

    def __init__(
        self, *, transport: AiohttpTransport, user_agent: str, timeout: httpx.Timeout
    ) -> None:
        super().__init__(
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": user_agent},
            trust_env=False,
        )
        self._direct = transport
        self._direct_timeout = aiohttp_timeout(timeout)
        self._defaults = {"User-Agent": user_agent, "Accept": "*/*"}

    async def post_capped(
        self, url: str, content: bytes, headers: Mapping[str, str], cap: int
    ) -> CappedReply:
        merged = CIMultiDict(self._defaults)
        merged.update(headers)  # the caller's win, in any letter case
        return await self._direct.post(url, content, merged, timeout=self._direct_timeout, cap=cap)

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: httpx._types.CookieTypes) -> None:
        if cookies:
            raise ValueError("the delivery client keeps no cookies")


def build_delivery_client(
    *,
    allow_private_peers: bool,
    user_agent: str,
    max_connections: int = 512,
    ssl_context: ssl.SSLContext | None = None,
    timeout: httpx.Timeout = TIMEOUT,
) -> DeliveryClient:
    """The client deliveries go out through: the same guard and policies over aiohttp.

    httpcore's pool costs milliseconds of CPU per request once many are in flight; a
    fan-out keeps hundreds in flight (`fedgroups.federation.transport`). The worker bounds
    requests per peer itself (DOMAIN_CONCURRENCY), so the pool bounds only the total.
    """
    context = ssl_context if ssl_context is not None else httpx.create_ssl_context()
    transport = AiohttpTransport(
        allow_private=allow_private_peers,
        ssl_context=context,
        max_connections=max_connections,
        max_per_host=0,
    )
    return DeliveryClient(transport=transport, user_agent=user_agent, timeout=timeout)
