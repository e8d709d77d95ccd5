"""The worker's loop connects to numeric addresses itself and leaves names to uvloop."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from fedgroups.worker_loop import WorkerLoop


class CountingLoop(WorkerLoop):
    lookups: list[Any]

    async def getaddrinfo(self, *args: Any, **kwargs: Any) -> Any:
        self.lookups.append(args[0])
        return await super().getaddrinfo(*args, **kwargs)


def run(work: Any) -> tuple[Any, list[Any]]:
    loop = CountingLoop()
    loop.lookups = []
    try:
        return loop.run_until_complete(work()), loop.lookups
    finally:
        loop.close()


def connect(host: str, port: int) -> Any:
    async def work() -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        with socket.socket() as sock:
            sock.setblocking(False)
            await loop.sock_connect(sock, (host, port))
            return sock.getpeername()

    return work


@pytest.fixture
def listener() -> Any:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_a_numeric_address_is_connected_to_without_a_lookup(listener: int) -> None:
    peer, lookups = run(connect("127.0.0.1", listener))
    assert peer == ("127.0.0.1", listener)
    assert lookups == []


def test_a_name_still_goes_through_uvloop(listener: int) -> None:
    peer, lookups = run(connect("localhost", listener))
    assert peer[1] == listener
    assert lookups == ["localhost"]


def test_a_refused_numeric_connect_raises_as_uvloop_does() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening: refused
        with pytest.raises(ConnectionRefusedError):
            run(connect("127.0.0.1", port))
