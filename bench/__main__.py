"""`python -m bench [--smoke] [--only FIGURES] [--backends sqlite,postgres]`: print the table.

Figures run one after another (they would fight over the two cores otherwise), each on its own
throwaway database; the table goes to stdout and, with every raw number, to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import deliveries, fanout, ingest, pages, processing, wrk
from bench.databases import BACKENDS, postgres_admin_url, postgres_available, throwaway
from bench.report import Cell, Row, as_json, render
from bench.runs import Run
from bench.system import BASELINE_RSA_SIGNS, machine, rsa_signs_per_second

ROWS = [
    ("ingest", "inbox ingest: signed Create{Note} accepted (verified, committed, 202), one process",
     "≥ 2,000/s SQLite, ≥ 3,000/s PostgreSQL, p95 ≤ 50 ms, ≥ 80 % of raw"),
    ("raw_ingest", "  raw limit: minimal verify-and-insert endpoint, same load", "-"),
    ("ingest_cpu", "  server CPU per accepted activity (ratio: raw / ours)", "-"),
    ("processing", "inbox processing: posts validated, stored, deliveries enqueued, one worker",
     "≥ 1,000/s"),
    ("deliveries", "deliveries per worker process, new TLS connection each, 1,000 peers",
     "≥ 700/s, CPU ≤ 1.5 ms each"),
    ("raw_deliveries", "  raw limit: bare signed-POST loop (httpx), same receivers, 64 in flight",
     "-"),
    ("keepalive", "deliveries over keep-alive to one busy peer, 200 in flight (delivery path)",
     "≥ 2,000/s"),
    ("raw_keepalive", "  raw limit: bare signed-POST loop (httpx), same peer, 200 in flight", "-"),
    ("fanout", "one post announced to 1,000 inboxes, 100 ms latency each", "99 % in ≤ 5 s"),
    ("fanout_dead", "  the same with dead hosts among them (live inboxes only)",
     "not delayed; 99 % in ≤ 5 s"),
    ("page_unloaded", "group page, 100,000 posts in the group, one client", "p95 ≤ 10 ms"),
    ("page_loaded", "group page under load (10 connections)", "≥ 500 pages/s"),
    ("memory_idle", "memory: serve RSS idle", "≤ 120 MB"),
    ("memory_load", "memory: serve RSS peak under the ingest load", "≤ 300 MB"),
]  # fmt: skip

Figure = Callable[[Run, str, str], Awaitable[dict[str, Cell]]]
FIGURES: dict[str, tuple[str, Figure]] = {
    # name: (database name, measure); processing runs on what ingest stored
    "ingest": ("ingest", ingest.measure),
    "deliveries": ("deliveries", deliveries.measure),
    "fanout": ("fanout", fanout.measure),
    "pages": ("pages", pages.measure),
}


async def _backend(
    run: Run, backend: str, only: set[str], cells: dict[str, dict[str, Cell]]
) -> None:
    for name, (database, measure) in FIGURES.items():
        if name not in only and not (name == "ingest" and "processing" in only):
            continue
        started = time.monotonic()
        print(f"[{backend}] {name} …", file=sys.stderr, flush=True)
        try:
            async with throwaway(backend, run.scratch, database) as url:
                found = await measure(run, backend, url)  # ingest stores processing's work
                if name not in only:
                    found = {}
                if name == "ingest" and "processing" in only:
                    found |= await processing.measure(run, backend, url)
        except Exception as exc:  # one broken figure must not hide the others
            traceback.print_exc()
            found = {
                key: Cell(f"error: {type(exc).__name__}")
                for key, *_ in ROWS
                if key.startswith(name[:4])
            }
        for key, cell in found.items():
            cells.setdefault(key, {})[backend] = cell
        print(
            f"[{backend}] {name} done in {time.monotonic() - started:.0f} s",
            file=sys.stderr,
            flush=True,
        )


async def _main(args: argparse.Namespace) -> int:
    if not wrk.available():
        print("wrk is not installed: apt-get install wrk (Debian)", file=sys.stderr)
        return 2
    backends = [name for name in args.backends.split(",") if name]
    if "postgres" in backends and not await postgres_available():
        print(f"PostgreSQL does not answer at {postgres_admin_url()} (FEDGROUPS_BENCH_POSTGRES)",
              file=sys.stderr)  # fmt: skip
        if os.environ.get("FEDGROUPS_REQUIRE_POSTGRES") == "1":
            return 2
        backends.remove("postgres")
    only = set(args.only.split(",")) if args.only else {*FIGURES, "processing", "keepalive"}
    run = Run.create(Path(args.scratch), smoke=args.smoke)
    load_before = os.getloadavg()
    signs = rsa_signs_per_second()
    cells: dict[str, dict[str, Cell]] = {}
    for backend in backends:
        await _backend(run, backend, only, cells)
    if "keepalive" in only:
        print("[both] keepalive …", file=sys.stderr, flush=True)
        for key, cell in (await deliveries.measure_keepalive(run)).items():
            cells[key] = {backend: cell for backend in backends}
    rows = [Row(label, target, cells.get(key, {})) for key, label, target in ROWS if key in cells]
    table = render(rows, backends, smoke=args.smoke)
    load = f"load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after"
    speed = (
        f"RSA-2048 signs {signs:,.0f}/s on one core "
        f"({signs / BASELINE_RSA_SIGNS:.2f} x the baselines' machine)"
    )
    print(f"\nfedgroups benchmarks{' (smoke: no targets enforced)' if args.smoke else ''} "
          f"on {machine().describe()}; {load}; {speed}\n")  # fmt: skip
    print(table)
    results = Path("bench/results")
    results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    payload = {
        "smoke": args.smoke,
        "machine": machine().__dict__,
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "rsa_signs_per_second": signs,
        "rows": as_json(rows),
    }
    (results / f"bench-{'smoke-' if args.smoke else ''}{stamp}.json").write_text(
        json.dumps(payload, indent=1, default=str)
    )
    (results / "latest.md").write_text(table + "\n")
    broken = [row.label for row in rows for c in row.cells.values() if c.text.startswith("error")]
    if broken:
        print(f"\n{len(broken)} figure(s) failed to run; see the traceback above", file=sys.stderr)
        return 1
    unmet = [row.label for row in rows for c in row.cells.values() if c.met is False]
    return 1 if args.strict and unmet and not args.smoke else 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="a few seconds per figure")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument(
        "--only", default="", help="comma list: ingest,processing,deliveries,keepalive,fanout,pages"
    )
    parser.add_argument("--scratch", default="bench/results/scratch")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    sys.exit(asyncio.run(_main(parser.parse_args())))


if __name__ == "__main__":
    main()
