"""The group page with 100,000 posts in the group: p95 unloaded and pages per second under load.

`fedgroups serve` (no workers) serves the group's HTML page to wrk: one connection for the
unloaded latency, ten for the throughput under load.
"""

from __future__ import annotations

from bench import processes, wrk
from bench.fixtures import add_members, add_posts, bench_settings, make_group, seeding
from bench.report import Cell
from bench.runs import Run, sql_execute
from bench.system import tree_cpu

P95_TARGET_MS, RATE_TARGET = 10.0, 500.0
GROUP = "busy"


async def measure(run: Run, backend: str, database_url: str) -> dict[str, Cell]:
    posts = 5_000 if run.smoke else 100_000
    data_dir = run.folder(f"pages-{backend}")
    settings = bench_settings(run.base_url, database_url, data_dir)
    async with seeding(settings):
        group = await make_group(settings, GROUP)
        authors = await add_members(group, run.members[:1], run.keys[1])
        await add_posts(group, authors[0], posts)
    if backend == "postgres":
        # A group that grew to 100,000 posts was analysed by autovacuum long ago; this one was
        # written a moment ago (and the test server runs without autovacuum).
        await sql_execute(database_url, "ANALYZE")
    env = processes.instance_env(database_url, data_dir, run.base_url, FEDGROUPS_WORKERS="0")
    url = f"{run.base_url}/g/{GROUP}"
    with processes.serve(env, run.ingest_port, data_dir / "serve.log") as server:
        wrk.run(url, seconds=run.warmup, connections=4, scratch=run.scratch)
        unloaded = wrk.run(url, seconds=run.seconds, connections=1, scratch=run.scratch)
        cpu0 = tree_cpu(server.pid)
        loaded = wrk.run(url, seconds=run.seconds, connections=10, scratch=run.scratch)
        cpu_ms = (tree_cpu(server.pid) - cpu0) / max(loaded.requests, 1) * 1e3
    failed = unloaded.non2xx + unloaded.errors + loaded.non2xx + loaded.errors
    suffix = f", {failed} failed" if failed else ""
    return {
        "page_unloaded": Cell(
            f"p95 {unloaded.p95_ms:.1f} ms, p50 {unloaded.p50_ms:.1f} ms ({posts:,} posts){suffix}",
            met=unloaded.p95_ms <= P95_TARGET_MS and not failed,
            data={"p95_ms": unloaded.p95_ms, "p50_ms": unloaded.p50_ms},
        ),
        "page_loaded": Cell(
            f"{loaded.rate:,.0f}/s, p95 {loaded.p95_ms:.1f} ms, {cpu_ms:.2f} ms CPU each{suffix}",
            met=loaded.rate >= RATE_TARGET and not failed,
            data={"rate": loaded.rate, "p95_ms": loaded.p95_ms, "cpu_ms": cpu_ms},
        ),
    }
