"""The worker's event loop: uvloop, connecting to numeric addresses without a lookup.

uvloop's `sock_connect` resolves every address it is given with getaddrinfo in its thread
pool, numeric or not (it asks without a socket type, so its own numeric shortcut never
applies): a thread hand-off and a libc lookup for every new connection, and a delivery with a
new TLS connection makes one each. aiohttp only ever hands it addresses it already resolved,
and the SSRF guard already vetted (`federation/transport.py`), so a numeric one is connected
to directly, as asyncio's own loop does; anything else goes to uvloop as before.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvloop

_INET = (socket.AF_INET, socket.AF_INET6)


class WorkerLoop(uvloop.Loop):
    """uvloop's loop; only `sock_connect` to an IPv4 or IPv6 literal differs."""

    async def sock_connect(self, sock: socket.socket, address: Any) -> None:
        """Connect a non-blocking socket; a numeric address without asking getaddrinfo."""
        if sock.family not in _INET or not _is_numeric(sock.family, address):
            await super().sock_connect(sock, address)
            return
        try:
            sock.connect(address)
            return
        except (BlockingIOError, InterruptedError):
            pass
        ready: asyncio.Future[None] = self.create_future()
        descriptor = sock.fileno()
        self.add_writer(descriptor, _settle, ready)
        try:
            await ready
        finally:
            self.remove_writer(descriptor)
        error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if error:
            raise OSError(error, f"Connect call failed {address}")


def _is_numeric(family: socket.AddressFamily, address: Any) -> bool:
    if not isinstance(address, tuple) or not isinstance(address[0], str):
        return False
    try:
        socket.inet_pton(family, address[0])
    except OSError:
        return False
    return True


def _settle(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)
