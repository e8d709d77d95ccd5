"""Inbox ingest: signed Create{Note} POSTs verified, committed and answered 202 per second.

One `fedgroups serve` process (processing deferred: FEDGROUPS_WORKERS=0) against wrk replaying
distinct pre-signed activities over 50 connections; the raw limit is `bench.rawinbox` on the
same database and load. Memory is the serve process's RSS idle and at its peak under the load.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from bench import processes, wrk
from bench.fixtures import add_members, bench_settings, make_group, seeding
from bench.presign import write_requests
from bench.report import Cell
from bench.runs import Run, sql_execute, sql_value
from bench.system import postgres_cpu, rss_mb, tree_cpu

CONNECTIONS = 50
GROUP = "circle"
TARGETS = {"sqlite": 2_000.0, "postgres": 3_000.0}
P95_TARGET_MS = 50.0
RAW_SHARE = 0.8
IDLE_MB, LOADED_MB = 120.0, 300.0
_COUNT = "SELECT COUNT(*) FROM inbox_items"


@dataclass(frozen=True)
class Load:
    rate: float
    stored: int
    p50_ms: float
    p95_ms: float
    cpu_us: float
    pg_cpu_us: float
    non2xx: int


def group_ap_id(run: Run) -> str:
    return f"{run.base_url}/g/{GROUP}"


def requests_files(run: Run) -> tuple[Path, Path]:
    """The run's signed requests, made once: warm-up, then enough for the longest load."""
    if run.requests_file is None:
        count = 3_000 if run.smoke else 60_000  # 7,500/s for 8 s before any repeats
        make = partial(
            write_requests,
            url=f"{run.base_url}/inbox",
            members=run.members,
            group_ap_id=group_ap_id(run),
            private_pem=run.keys[0],
        )
        make(run.scratch / "inbox-warmup.bin", count=count // 4, first=10_000_000)
        run.requests_file = make(run.scratch / "inbox-requests.bin", count=count)
    return run.scratch / "inbox-warmup.bin", run.requests_file


async def seed(run: Run, database_url: str, data_dir: Path) -> None:
    settings = bench_settings(run.base_url, database_url, data_dir)
    async with seeding(settings):
        group = await make_group(settings, GROUP)
        await add_members(group, run.members, run.keys[1])


class PeakRSS:
    """Samples a process's resident memory every 100 ms while a load runs."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, rss_mb(self.pid))

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def _quiet_count(database_url: str) -> int:
    """The stored count once requests still in the server's hands have been committed."""
    count = -1
    while True:
        await asyncio.sleep(0.5)
        latest = await sql_value(database_url, _COUNT)
        if latest == count:
            return count
        count = latest


async def _load(
    run: Run, database_url: str, url: str, pid: int, profile: Path
) -> tuple[Load, float]:
    """Warm up, let the server drain, then measure what it committed during the load.

    Returns the load figures and the peak RSS.
    """
    warmup, requests = requests_files(run)
    wrk.run(url, seconds=run.warmup, connections=CONNECTIONS, scratch=run.scratch,
            requests_file=warmup)  # fmt: skip
    before = await _quiet_count(database_url)
    cpu0, pg0 = tree_cpu(pid), postgres_cpu()
    with PeakRSS(pid) as memory, processes.Profile(pid, profile, run.seconds):
        result = wrk.run(url, seconds=run.seconds, connections=CONNECTIONS,
                         scratch=run.scratch, requests_file=requests)  # fmt: skip
    stored = await sql_value(database_url, _COUNT) - before
    cpu, pg = tree_cpu(pid) - cpu0, postgres_cpu() - pg0
    per = max(stored, 1)
    load = Load(
        rate=stored / result.seconds,
        stored=stored,
        p50_ms=result.p50_ms,
        p95_ms=result.p95_ms,
        cpu_us=cpu / per * 1e6,
        pg_cpu_us=pg / per * 1e6 if not database_url.startswith("sqlite") else 0.0,
        non2xx=result.non2xx + result.errors,
    )
    return load, memory.peak


def _describe(load: Load) -> str:
    text = f"{load.rate:,.0f}/s, p50 {load.p50_ms:.1f} ms, p95 {load.p95_ms:.1f} ms"
    if load.non2xx:
        text += f", {load.non2xx} failed"
    return text


async def measure(run: Run, backend: str, database_url: str) -> dict[str, Cell]:
    """Raw limit first, then fedgroups, on one freshly seeded database."""
    data_dir = run.folder(f"ingest-{backend}")
    await seed(run, database_url, data_dir)
    requests_files(run)
    raw_port = processes.free_port()
    with processes.python_module(
        "bench.rawinbox", [database_url, str(raw_port)], data_dir / "rawinbox.log"
    ) as raw_server:
        raw_url = f"http://127.0.0.1:{raw_port}/inbox"
        profile = data_dir / "rawinbox.pyspy"
        raw, _ = await _load(run, database_url, raw_url, raw_server.pid, profile)
    await sql_execute(database_url, "DELETE FROM inbox_items")
    env = processes.instance_env(database_url, data_dir, run.base_url, FEDGROUPS_WORKERS="0")
    with processes.serve(env, run.ingest_port, data_dir / "serve.log") as server:
        idle = rss_mb(server.pid)
        ours, peak = await _load(
            run, database_url, f"{run.base_url}/inbox", server.pid, data_dir / "serve.pyspy"
        )
    ratio = ours.rate / raw.rate if raw.rate else None
    met = ours.rate >= TARGETS[backend] and ours.p95_ms <= P95_TARGET_MS and not ours.non2xx
    return {
        "ingest": Cell(
            _describe(ours),
            met=met and ratio is not None and ratio >= RAW_SHARE,
            ratio=ratio,
            data={**ours.__dict__},
        ),
        "ingest_cpu": Cell(
            f"{ours.cpu_us:,.0f} µs"
            + (f" + {ours.pg_cpu_us:,.0f} µs PostgreSQL" if backend == "postgres" else ""),
            ratio=raw.cpu_us / ours.cpu_us if ours.cpu_us else None,
        ),
        "raw_ingest": Cell(_describe(raw), data={**raw.__dict__}),
        "memory_idle": Cell(f"{idle:.0f} MB", met=idle <= IDLE_MB, data={"mb": idle}),
        "memory_load": Cell(f"{peak:.0f} MB", met=peak <= LOADED_MB, data={"mb": peak}),
    }
