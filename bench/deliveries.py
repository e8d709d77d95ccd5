"""Deliveries per second per worker process: new TLS connection each, and keep-alive to one peer.

New connections: one `fedgroups worker` process sends queued Announces to 1,000 distinct peers
(one receiver port each, TLS with a throw-away CA, `Connection: close` so every delivery opens a
new connection and handshake); CPU per delivery is the worker's own. The raw limit is the bare
signed-POST loop (`bench.sendloop --client bare`) against the same receivers, 64 in flight (the
worker keeps 4 x 64; httpcore's pool queues and slows past about 64).

Keep-alive: fedgroups' per-domain limit (DOMAIN_CONCURRENCY) never lets a worker put 200
deliveries in flight to one peer, so this figure drives the worker's delivery path itself
(`build_delivery_client` + `post_signed` + `classify_response`) from
`bench.sendloop --client fedgroups` with 200 in flight to one TLS peer over kept-alive
connections, beside the bare loop.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench import processes
from bench.fixtures import add_members, bench_settings, make_group, recipients_at, seeding
from bench.report import Cell
from bench.runs import Run, sql_value, wait_until
from bench.system import postgres_cpu, tree_cpu
from bench.tlsfiles import TLSFiles, make_tls_files
from fedgroups.activitypub.activities import render_announce
from fedgroups.groups.outbox import new_activity_id, publish

RATE_TARGET, CPU_TARGET_MS = 700.0, 1.5
KEEPALIVE_TARGET = 2_000.0
KEEPALIVE_INFLIGHT = 200
BARE_INFLIGHT = 64  # what httpcore's pool serves cheaply; the worker keeps 4 x 64
_DONE = "SELECT COUNT(*) FROM deliveries WHERE state = 'done'"
_NOT_DONE = "SELECT COUNT(*) FROM deliveries WHERE state NOT IN ('done', 'queued', 'running')"


def tls_files(run: Run) -> TLSFiles:
    folder = run.scratch / "tls"
    if not (folder / "ca.pem").exists():
        return make_tls_files(folder)
    return TLSFiles(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")


def receivers(run: Run, ports: int, log_name: str, *extra: str) -> processes.Running:
    return processes.python_module(
        "bench.receivers", ["--ports", str(ports), *extra], run.scratch / log_name
    )


async def _seed(run: Run, database_url: str, ports: list[int], activities: int) -> None:
    settings = bench_settings(run.base_url, database_url, run.folder("deliveries"))
    async with seeding(settings):
        group = await make_group(settings, "deliveries")
        members = recipients_at(f"https://127.0.0.1:{port}" for port in ports)
        actors = await add_members(group, members, run.keys[1])
        for number in range(activities):
            activity = render_announce(
                group.actor.ap_id,
                new_activity_id(group.actor),
                f"https://peer.bench.invalid/users/m/statuses/{number}",
                followers=group.actor.followers_url,
                is_public=True,
            )
            await publish(group.actor, activity, actors, group=group)


async def _worker_rate(run: Run, database_url: str, ca: str) -> dict[str, Any]:
    data_dir = run.folder("deliveries")
    env = processes.instance_env(database_url, data_dir, run.base_url, SSL_CERT_FILE=ca)
    with processes.worker(env, data_dir / f"worker-{time.monotonic_ns()}.log") as worker:

        async def started() -> bool:
            return await sql_value(database_url, _DONE) > 0

        if not await wait_until(started, timeout=60):
            raise RuntimeError(f"worker delivered nothing:\n{worker.log_path.read_text()[-3000:]}")
        await asyncio.sleep(run.warmup)
        done0, t0 = await sql_value(database_url, _DONE), time.monotonic()
        cpu0, pg0 = tree_cpu(worker.pid), postgres_cpu()
        with processes.Profile(worker.pid, data_dir / "deliveries.pyspy", run.seconds):
            await asyncio.sleep(run.seconds)
        done1, t1 = await sql_value(database_url, _DONE), time.monotonic()
        cpu, pg = tree_cpu(worker.pid) - cpu0, postgres_cpu() - pg0
    delivered = max(done1 - done0, 1)
    return {
        "rate": delivered / (t1 - t0),
        "cpu_ms": cpu / delivered * 1e3,
        "pg_cpu_ms": pg / delivered * 1e3,
        "not_done": await sql_value(database_url, _NOT_DONE),
    }


def _bare_loop(run: Run, ports: list[int], ca: str, inflight: int, per_port: int = 1) -> Any:
    return processes.run_module(
        "bench.sendloop",
        [
            "--client", "bare", "--ports", ",".join(map(str, ports)), "--ca", ca,
            "--inflight", str(inflight), "--seconds", str(run.seconds),
            "--warmup", str(run.warmup), "--inboxes-per-port", str(per_port),
        ],
        timeout=run.seconds * 4 + 120,
    )  # fmt: skip


async def measure(run: Run, backend: str, database_url: str) -> dict[str, Cell]:
    peers = 100 if run.smoke else 1_000
    tls = tls_files(run)
    with receivers(run, peers, f"receivers-tls-{backend}.log",
                   "--tls", str(tls.cert), str(tls.key), "--close") as peer_set:  # fmt: skip
        ports: list[int] = peer_set.ready["ports"]
        await _seed(run, database_url, ports, activities=3 if run.smoke else 14)
        ours = await _worker_rate(run, database_url, str(tls.ca))
        raw = _bare_loop(run, ports, str(tls.ca), BARE_INFLIGHT)
    text = f"{ours['rate']:,.0f}/s, {ours['cpu_ms']:.2f} ms CPU each"
    if backend == "postgres":
        text += f" + {ours['pg_cpu_ms']:.2f} ms PostgreSQL"
    if ours["not_done"]:
        text += f", {ours['not_done']} failed"
    met = ours["rate"] >= RATE_TARGET and ours["cpu_ms"] <= CPU_TARGET_MS and not ours["not_done"]
    return {
        "deliveries": Cell(text, met=met, ratio=ours["rate"] / raw["rate"], data=ours),
        "raw_deliveries": Cell(f"{raw['rate']:,.0f}/s, {raw['cpu_ms']:.2f} ms CPU each", data=raw),
    }


async def measure_keepalive(run: Run) -> dict[str, Cell]:
    """No database involved: measured once and shown for both."""
    tls = tls_files(run)
    with receivers(run, 1, "receivers-keepalive.log", "--tls", str(tls.cert), str(tls.key)) as peer:
        port = str(peer.ready["ports"][0])
        results = {}
        for client in ("fedgroups", "bare"):
            results[client] = processes.run_module(
                "bench.sendloop",
                [
                    "--client", client, "--ports", port, "--ca", str(tls.ca),
                    "--inflight", str(KEEPALIVE_INFLIGHT), "--inboxes-per-port", "1000",
                    "--seconds", str(run.seconds), "--warmup", str(run.warmup),
                ],
                timeout=run.seconds * 4 + 120,
            )  # fmt: skip
    ours, raw = results["fedgroups"], results["bare"]
    text = f"{ours['rate']:,.0f}/s, {ours['cpu_ms']:.2f} ms CPU each"
    if ours["failed"]:
        text += f", {ours['failed']} failed"
    cell = Cell(
        text,
        met=ours["rate"] >= KEEPALIVE_TARGET and not ours["failed"],
        ratio=ours["rate"] / raw["rate"] if raw["rate"] else None,
        data=ours,
    )
    raw_cell = Cell(f"{raw['rate']:,.0f}/s, {raw['cpu_ms']:.2f} ms CPU each", data=raw)
    return {"keepalive": cell, "raw_keepalive": raw_cell}
