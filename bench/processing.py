"""Inbox processing: accepted posts validated, stored and fanned out (deliveries enqueued).

One `fedgroups worker` process works through the Create{Note} items the ingest figure stored:
posts by members of a 100-member group whose members live on 10 servers with shared inboxes.
Every member's domain is marked unavailable first, so each post's Announce is enqueued (one
delivery per member, paused) but nothing is sent: the figure is processing, not delivery.
"""

from __future__ import annotations

import asyncio
import time

from bench import processes
from bench.fixtures import bench_settings, pause_domains, seeding
from bench.report import Cell
from bench.runs import Run, sql_value, wait_until
from bench.system import postgres_cpu, tree_cpu

TARGET = 1_000.0
_DONE = "SELECT COUNT(*) FROM inbox_items WHERE state IN ('done', 'failed', 'ignored')"
_FAILED = "SELECT COUNT(*) FROM inbox_items WHERE state NOT IN ('done', 'queued', 'running')"


async def measure(run: Run, backend: str, database_url: str) -> dict[str, Cell]:
    """Run after ingest on the same database: its stored items are the work."""
    data_dir = run.folder(f"ingest-{backend}")
    settings = bench_settings(run.base_url, database_url, data_dir)
    async with seeding(settings):
        await pause_domains({member.domain for member in run.members})
    queued = await sql_value(database_url, "SELECT COUNT(*) FROM inbox_items")
    env = processes.instance_env(database_url, data_dir, run.base_url)
    with processes.worker(env, data_dir / "worker.log") as worker:

        async def started() -> bool:
            return await sql_value(database_url, _DONE) > 0

        if not await wait_until(started, timeout=60):
            raise RuntimeError(f"worker processed nothing:\n{worker.log_path.read_text()[-3000:]}")
        done0, t0 = await sql_value(database_url, _DONE), time.monotonic()
        cpu0, pg0 = tree_cpu(worker.pid), postgres_cpu()
        with processes.Profile(worker.pid, data_dir / "processing.pyspy", run.seconds):
            await asyncio.sleep(run.seconds)
        done1, t1 = await sql_value(database_url, _DONE), time.monotonic()
        cpu, pg = tree_cpu(worker.pid) - cpu0, postgres_cpu() - pg0
    processed = done1 - done0
    rate = processed / (t1 - t0)
    failed = await sql_value(database_url, _FAILED)
    enqueued = await sql_value(database_url, "SELECT COUNT(*) FROM deliveries")
    per_post = enqueued / max(done1, 1)
    cpu_ms = cpu / max(processed, 1) * 1e3
    text = f"{rate:,.0f}/s ({per_post:.0f} deliveries each), {cpu_ms:.2f} ms CPU"
    if backend == "postgres":
        text += f" + {pg / max(processed, 1) * 1e3:.2f} ms PostgreSQL"
    if failed:
        text += f", {failed} not done"
    if done1 >= queued:
        text += " (ran out of items)"
    return {
        "processing": Cell(
            text,
            met=rate >= TARGET and not failed,
            data={"rate": rate, "failed": failed, "deliveries_per_post": per_post},
        )
    }
