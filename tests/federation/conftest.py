"""Fixtures for outbound-HTTP tests: scripted servers on real sockets, fake DNS, a dialer.

Fixture names start with `outbound_` so they do not collide with other suites' fixtures.
"""

from __future__ import annotations

import asyncio
import datetime
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpcore
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


@dataclass
class RecordedRequest:
    method: str
    target: str
    headers: dict[str, str]  # names lower-cased


@dataclass
class Reply:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    content_length: bool | int = True  # True: len(body); int: announce that; False: omit
    trickle: float | None = None  # seconds between single body bytes
    hold_open: bool = False  # keep the socket open after the body


Handler = Callable[[RecordedRequest], Awaitable[Reply]] | Mapping[str, Reply]


class LocalServer:
    """HTTP/1.1 server on a real socket that records connections and requests."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[RecordedRequest] = []
        self.port = 0
        self.host = ""
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, host: str, tls: ssl.SSLContext | None) -> None:
        self._server = await asyncio.start_server(self._serve, host, 0, ssl=tls)
        self.host = host
        self.port = self._server.sockets[0].getsockname()[1]

    def url(self, path: str = "/", name: str | None = None, scheme: str = "http") -> str:
        return f"{scheme}://{name or self.host}:{self.port}{path}"

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            request = await _read_request(reader)
            if request is not None:
                self.requests.append(request)
                await _write_reply(writer, await self._reply(request))
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _reply(self, request: RecordedRequest) -> Reply:
        if callable(self.handler):
            return await self.handler(request)
        path = request.target.split("?")[0]
        return self.handler.get(path, Reply(status=404))


async def _read_request(reader: asyncio.StreamReader) -> RecordedRequest | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if int(headers.get("content-length", "0")):
        await reader.readexactly(int(headers["content-length"]))
    return RecordedRequest(method, target, headers)


async def _write_reply(writer: asyncio.StreamWriter, reply: Reply) -> None:
    head = [f"HTTP/1.1 {reply.status} Status", "Connection: close"]
    head += [f"{name}: {value}" for name, value in reply.headers]
    if reply.content_length is not False:
        length = len(reply.body) if reply.content_length is True else reply.content_length
        head.append(f"Content-Length: {length}")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
    if reply.trickle is None:
        writer.write(reply.body)
    else:
        for i in range(len(reply.body)):
            writer.write(reply.body[i : i + 1])
            await writer.drain()
            await asyncio.sleep(reply.trickle)
    await writer.drain()
    if reply.hold_open:
        await asyncio.sleep(3600)


ServerFactory = Callable[..., Awaitable[LocalServer]]


@pytest.fixture
async def outbound_server() -> AsyncIterator[ServerFactory]:
    """Factory: `await outbound_server(handler, host="127.0.0.1", tls=None)`."""
    servers: list[LocalServer] = []

    async def start(
        handler: Handler, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None
    ) -> LocalServer:
        server = LocalServer(handler)
        await server.start(host, tls)
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()


AddrInfo = tuple[int, int, int, str, tuple[Any, ...]]


class FakeDNS:
    """Answers chosen names from a script, one answer list per lookup; others pass through."""

    def __init__(self, real: Callable[..., Awaitable[Any]]) -> None:
        self._real = real
        self._answers: dict[str, list[list[str]]] = {}
        self.lookups: dict[str, int] = {}

    def set(self, name: str, *answers: Iterable[str]) -> None:
        """Each positional argument is the answer for one lookup; the last one repeats."""
        self._answers[name] = [list(a) for a in answers]
        self.lookups[name] = 0

    async def getaddrinfo(
        self, host: object, port: object, *args: object, **kw: object
    ) -> list[AddrInfo]:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in self._answers:
            return list(await self._real(host, port, *args, **kw))
        self.lookups[name] += 1
        script = self._answers[name]
        answer = script.pop(0) if len(script) > 1 else script[0]
        return [_addrinfo(ip, int(str(port))) for ip in answer]


def _addrinfo(ip: str, port: int) -> AddrInfo:
    if ":" in ip:
        return (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (ip, port, 0, 0))
    return (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (ip, port))


@pytest.fixture
async def outbound_fake_dns(monkeypatch: pytest.MonkeyPatch) -> FakeDNS:
    """Patch the running loop's resolver, which is the one the SSRF guard asks."""
    loop = asyncio.get_running_loop()
    fake = FakeDNS(loop.getaddrinfo)
    monkeypatch.setattr(loop, "getaddrinfo", fake.getaddrinfo)
    return fake


class RoutingDialer(httpcore.AsyncNetworkBackend):
    """Records every address the guard dials; routes chosen public IPs to local ones.

    Unrouted addresses are refused, so a test can never reach the real internet.
    """

    def __init__(self, routes: Mapping[str, str] | None = None) -> None:
        self.routes = dict(routes or {})
        self.dialled: list[tuple[str, int]] = []
        self._real = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.dialled.append((host, port))
        if host not in self.routes:
            raise httpcore.ConnectError(f"test network has no route to {host}")
        return await self._real.connect_tcp(self.routes[host], port, timeout=timeout)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@pytest.fixture
def outbound_dialer() -> RoutingDialer:
    return RoutingDialer()


@dataclass
class TLSPair:
    server: ssl.SSLContext
    client: ssl.SSLContext
    server_names: list[str]  # SNI values the server saw


@pytest.fixture(scope="session")
def outbound_cert_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Self-signed certificate for peer.test only (no IP SAN): TLS passes only with SNI."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "peer.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("peer.test")]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def outbound_tls(outbound_cert_files: tuple[Path, Path]) -> TLSPair:
    cert_path, key_path = outbound_cert_files
    seen: list[str] = []
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)

    def record_sni(_sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        seen.append(name or "")

    server.sni_callback = record_sni
    client = ssl.create_default_context(cafile=str(cert_path))
    return TLSPair(server=server, client=client, server_names=seen)


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    """A signing key for signature tests (RSA generation is slow: one per run)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def other_rsa_key() -> rsa.RSAPrivateKey:
    """A second key, for "signed with another key" cases."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)
