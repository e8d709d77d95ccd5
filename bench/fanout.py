"""Fan-out: one post announced to 1,000 distinct remote inboxes, each answering after 100 ms.

A member POSTs one signed Create{Note} to a `fedgroups serve` process (one in-process worker,
as an operator runs it); the figure is the time from that POST until 99 % and until the last of
the group's Announces reached the receivers. The same post is then sent to a second group
whose members also include dead hosts (they accept the connection and never answer): the live
inboxes must be served as fast as without them.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import httpx
import orjson

from bench import processes
from bench.fixtures import (
    Member,
    add_members,
    bench_settings,
    create_note,
    make_group,
    recipients_at,
    seeding,
)
from bench.report import Cell
from bench.runs import Run, wait_until
from fedgroups.activitypub.keys import load_private_key
from fedgroups.federation.signatures import sign_cavage

LATENCY = 0.1
TARGET_99 = 5.0
DEAD_SLACK = 1.25  # "never delays": within 25 % (or 0.5 s) of the run without dead hosts


async def _seed(run: Run, database_url: str, live: list[int], dead: list[int]) -> Member:
    settings = bench_settings(run.base_url, database_url, run.folder("fanout"))
    poster_origin = f"http://127.0.0.1:{live[-1]}"
    poster = Member(f"{poster_origin}/users/poster", f"{poster_origin}/users/poster/inbox")
    live_members = [*recipients_at(f"http://127.0.0.1:{port}" for port in live[:-1]), poster]
    dead_members = [
        Member(f"http://127.0.0.1:{port}/users/dead", f"http://127.0.0.1:{port}/users/dead/inbox")
        for port in dead
    ]
    async with seeding(settings):
        plain = await make_group(settings, "fanout")
        await add_members(plain, live_members, run.keys[1])
        with_dead = await make_group(settings, "fanout-dead")
        await add_members(with_dead, [*live_members, *dead_members], run.keys[1])
    return poster


async def _arrivals(control: int) -> list[float]:
    async with httpx.AsyncClient(timeout=10) as client:
        stats = (await client.get(f"http://127.0.0.1:{control}/stats")).json()
    return sorted(float(when) for when, _port in stats["arrivals"])


async def _one_post(run: Run, poster: Member, group: str, control: int, expected: int) -> Any:
    async with httpx.AsyncClient(timeout=30) as client:
        await client.post(f"http://127.0.0.1:{control}/reset")
    url = f"{run.base_url}/inbox"
    body = orjson.dumps(create_note(poster, f"{run.base_url}/g/{group}", time.time_ns()))
    headers = sign_cavage(
        "POST", url, {"Content-Type": "application/activity+json"}, body, poster.key_id,
        load_private_key(run.keys[0]),
    )  # fmt: skip
    async with httpx.AsyncClient(timeout=30) as client:
        started = time.time()
        answer = await client.post(url, content=body, headers=headers)
    if answer.status_code != 202:
        raise RuntimeError(f"the post was refused: {answer.status_code} {answer.text}")

    async def all_arrived() -> bool:
        return len(await _arrivals(control)) >= expected

    await wait_until(all_arrived, timeout=20 if run.smoke else 60, interval=0.2)
    times = [when - started for when in await _arrivals(control)]
    if not times:
        return {"p99": math.inf, "last": math.inf, "arrived": 0, "expected": expected}
    index = min(len(times), math.ceil(0.99 * expected)) - 1
    p99 = times[index] if len(times) >= math.ceil(0.99 * expected) else math.inf
    return {
        "p99": p99,
        "last": times[-1],
        "first": times[0],  # what processing the post took before the first Announce left
        "arrived": len(times),
        "expected": expected,
    }


def _text(result: dict[str, Any]) -> str:
    text = f"99 % in {result['p99']:.2f} s, last {result['last']:.2f} s"
    if result["arrived"] < result["expected"]:
        text += f" ({result['arrived']} of {result['expected']} arrived)"
    return text


async def measure(run: Run, backend: str, database_url: str) -> dict[str, Cell]:
    peers, dead = (100, 3) if run.smoke else (1_000, 10)
    data_dir = run.folder("fanout")
    args = ["--delay", str(LATENCY), "--blackholes", str(dead)]
    with processes.python_module(
        "bench.receivers",
        ["--ports", str(peers), *args],
        run.scratch / f"receivers-fanout-{backend}.log",
    ) as peer_set:
        live, holes = peer_set.ready["ports"], peer_set.ready["blackholes"]
        # The run's port was free when the run began; 1,000 receiver ports and the
        # connections of earlier figures may have taken it since.
        run = dataclasses.replace(run, ingest_port=processes.free_port())
        control = peer_set.ready["control"]
        poster = await _seed(run, database_url, live, holes)
        env = processes.instance_env(database_url, data_dir, run.base_url)
        with processes.serve(env, run.ingest_port, data_dir / f"serve-{backend}.log") as server:
            profile = data_dir / f"fanout-{backend}.pyspy"
            with processes.Profile(server.pid, profile, 6 if run.smoke else 10):
                plain = await _one_post(run, poster, "fanout", control, peers)
            mixed = await _one_post(run, poster, "fanout-dead", control, peers)
    undelayed = mixed["last"] <= max(plain["last"] * DEAD_SLACK, plain["last"] + 0.5)
    return {
        "fanout": Cell(
            _text(plain) + f" ({peers} inboxes)",
            met=plain["p99"] <= TARGET_99 and plain["arrived"] == peers,
            data=plain,
        ),
        "fanout_dead": Cell(
            _text(mixed) + f" ({dead} dead hosts among them)",
            met=undelayed and mixed["p99"] <= TARGET_99 and mixed["arrived"] == peers,
            data=mixed,
        ),
    }
