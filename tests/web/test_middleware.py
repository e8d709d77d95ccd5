"""The request middleware: idle in-process workers are woken after requests that may write."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import Scope

from fedgroups.web import sessions


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


class CookieReads:
    """Counts the session layer's cookie reads: it reads them for every request it sees."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = sessions._cookies

        def counting(scope: Scope) -> dict[str, str]:
            self.calls += 1
            return real(scope)

        monkeypatch.setattr(sessions, "_cookies", counting)


async def test_peers_inbox_posts_skip_the_browser_session_layer(
    app: Starlette, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = CookieReads(monkeypatch)
    worker = CountingWorker()
    app.state.worker = worker
    for path in ("/inbox", "/g/nobody-here/inbox"):
        response = await client.post(path, json={"type": "Create"})
        assert response.status_code in (400, 404)
        assert "set-cookie" not in response.headers
    assert reads.calls == 0
    assert worker.wakes == 2  # still inside the database binding, which wakes the workers


async def test_other_routes_and_cookie_bearing_posts_still_get_the_session(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = CookieReads(monkeypatch)
    page = await client.get("/login")
    assert page.status_code == 200
    assert "set-cookie" in page.headers
    assert reads.calls == 1
    response = await client.post("/inbox", json={"type": "Create"})  # the jar sends its cookie
    assert response.status_code == 400
    assert reads.calls == 2
