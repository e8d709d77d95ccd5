"""Long-running processes freeze what start-up built and collect young objects less often."""

from __future__ import annotations

import argparse
import gc
from typing import Any

import pytest
import uvicorn

from fedgroups import cli, heap, server
from fedgroups.settings import Settings


def test_settle_heap_collects_then_freezes_then_raises_the_young_threshold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(heap.gc, "collect", lambda: calls.append("collect"))
    monkeypatch.setattr(heap.gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(heap.gc, "set_threshold", lambda *limits: calls.append(limits))
    heap.settle_heap()
    _young, middle, old = gc.get_threshold()
    assert calls == ["collect", "freeze", (heap.YOUNG_THRESHOLD, middle, old)]
    assert heap.YOUNG_THRESHOLD > 700  # CPython's default


def test_the_worker_command_settles_the_heap_before_its_loop_starts(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    order: list[str] = []
    monkeypatch.setattr(heap, "settle_heap", lambda: order.append("settle"))

    def run(work: Any, **options: Any) -> None:
        work.close()  # never started: only the order matters
        order.append("loop")

    monkeypatch.setattr(cli.uvloop, "run", run)
    cli._worker(settings, argparse.Namespace(concurrency=4))
    assert order == ["settle", "loop"]


async def test_serve_settles_the_heap_once_started_before_it_announces_itself(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    order: list[str] = []

    async def started(self: uvicorn.Server, sockets: Any = None) -> None:
        self.started = True  # the lifespan ran and the socket is bound

    monkeypatch.setattr(uvicorn.Server, "startup", started)
    monkeypatch.setattr(server, "settle_heap", lambda: order.append("settle"))
    announcing = server._AnnouncingServer(uvicorn.Config(app=None), "https://groups.example")
    await announcing.startup()
    order.append(capsys.readouterr().out.split(" ")[1])
    assert order == ["settle", "serving"]
