"""The request middleware: idle in-process workers are woken after requests that may write."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette


class CountingWorker:
    def __init__(self) -> None:
        self.wakes = 0

    def notify(self) -> None:
        self.wakes += 1


async def test_writes_wake_the_workers_and_reads_do_not(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    worker = CountingWorker()
    app.state.worker = worker
    await client.get("/.well-known/nodeinfo")
    await client.head("/.well-known/host-meta")
    assert worker.wakes == 0
    # Woken once the answer is out: whatever the request queued is committed by then.
    await client.post("/inbox", json={"type": "Create"})
    assert worker.wakes == 1
