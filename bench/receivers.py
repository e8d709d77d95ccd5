"""Remote inboxes for the delivery figures: many listening ports in one separate process.

Each port is a distinct peer (host:port is the peer's domain for fedgroups' per-domain limits
and its connection pool). A request is answered 202 after `--delay` seconds, with
`Connection: close` when asked, so every delivery then needs a new (TLS) connection.
Black holes accept connections (in the kernel's backlog) and never answer: dead hosts.
A plain-HTTP control port serves `GET /stats` (arrival times per port) and `POST /reset`.
Run: python -m bench.receivers --ports N [--tls CERT KEY] [--delay S] [--close] [--blackholes M]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import socket
import ssl
import time
from typing import Any

import orjson
import uvloop

_ACCEPTED = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n"


class Log:
    """Arrivals of complete requests: (unix time, port)."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, int]] = []


class Inbox(asyncio.Protocol):
    """One connection to one fake peer: reads each request whole, answers 202."""

    def __init__(self, port: int, log: Log, delay: float, close: bool) -> None:
        self.port, self.log, self.delay, self.close = port, log, delay, close
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            length = _content_length(bytes(self.buffer[:end]))
            if len(self.buffer) < end + 4 + length:
                return
            del self.buffer[: end + 4 + length]
            self.log.arrivals.append((time.time(), self.port))
            if self.delay:
                asyncio.get_running_loop().call_later(self.delay, self._answer)
            else:
                self._answer()

    def _answer(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if self.close:
            self.transport.write(_ACCEPTED + b"Connection: close\r\n\r\n")
            self.transport.close()
        else:
            self.transport.write(_ACCEPTED + b"\r\n")


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


class Control(asyncio.Protocol):
    """GET /stats and POST /reset, one request per connection."""

    def __init__(self, log: Log) -> None:
        self.log = log
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if b"\r\n\r\n" not in self.buffer:
            return
        if self.buffer.startswith(b"POST /reset"):
            self.log.arrivals.clear()
            body = b"{}"
        else:
            body = orjson.dumps({"arrivals": self.log.arrivals})
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        self.transport.write(head.encode() + body)
        self.transport.close()


def _raise_file_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def _serve(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    log = Log()
    context = None
    if args.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls[0], args.tls[1])
    servers: list[Any] = []
    ports: list[int] = []
    for _ in range(args.ports):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

        def factory(port: int = port) -> Inbox:
            return Inbox(port, log, args.delay, args.close)

        servers.append(await loop.create_server(factory, sock=sock, ssl=context, backlog=1024))
        ports.append(port)
    holes = []
    for _ in range(args.blackholes):
        hole = socket.socket()
        hole.bind(("127.0.0.1", 0))
        hole.listen(1024)  # never accepted: connects succeed, requests are never answered
        holes.append(hole)
    control = await loop.create_server(lambda: Control(log), "127.0.0.1", 0)
    ready = {
        "ports": ports,
        "blackholes": [hole.getsockname()[1] for hole in holes],
        "control": control.sockets[0].getsockname()[1],
    }
    print("READY " + orjson.dumps(ready).decode(), flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ports", type=int, default=1)
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--close", action="store_true")
    parser.add_argument("--blackholes", type=int, default=0)
    args = parser.parse_args()
    _raise_file_limit()
    uvloop.run(_serve(args))


if __name__ == "__main__":
    main()
