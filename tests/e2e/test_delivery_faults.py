"""Delivery faults over the real wire (T68, T69, T71, T72, T74).

A real `fedgroups serve` (and, for the crash test, a real `fedgroups worker`) delivers a
group's activities to Receivers on other loopback ports, which check our signatures and
misbehave on command. FEDGROUPS_TEST_TIMING shortens leases, deadlines and backoffs so
that seconds stand in for the minutes and hours production waits.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import BACKENDS, _truncate_all
from tests.e2e.instances import Instance, start_instance, start_worker, wait_for
from tests.peer import Receiver, RemotePeer, Reply

pytestmark = pytest.mark.e2e

AP = {"Accept": "application/activity+json"}
RETRY_BASE = 0.2
DEADLINE = 1.0
TIMING = (
    f"delivery_lease=2,inbox_lease=2,delivery_deadline={DEADLINE},"
    f"retry_base={RETRY_BASE},retry_cap=1,poll_interval=0.05"
)
GROUP = "recovery"

Launch = Callable[[int], Instance]


@pytest.fixture(params=BACKENDS)
def launch(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Launch]:
    """Start the test's instance with `workers` in-process workers and the short timings."""
    database_url = None
    if request.param == "postgres":
        database_url = request.getfixturevalue("postgres_database")
        asyncio.run(_truncate_all(database_url))
    started: list[Instance] = []

    def start(workers: int) -> Instance:
        extra = {"FEDGROUPS_TEST_TIMING": TIMING}
        instance = start_instance(tmp_path / "instance", database_url, workers, extra)
        started.append(instance)
        return instance

    yield start
    for instance in started:
        instance.stop()


@pytest.fixture
async def peers() -> AsyncIterator[Callable[[], Any]]:
    """Factory of started Receivers that fetch our keys over HTTP; all stopped at teardown."""
    async with AsyncExitStack() as stack:

        async def make() -> Receiver:
            receiver = Receiver({}, fetch_keys=True)
            await receiver.start()
            stack.push_async_callback(receiver.stop)
            return receiver

        yield make


# --- driving the instance ------------------------------------------------------------------


async def send(instance: Instance, actor: RemotePeer, activity: dict[str, Any]) -> None:
    url = f"{instance.base_url}/inbox"
    body, headers = actor.signed_post(url, activity)
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(url, content=body, headers=headers)
    assert response.status_code == 202, response.text


async def create_group(instance: Instance) -> str:
    await asyncio.to_thread(instance.cli, "group", "create", GROUP, "--name", "Recovery Circle")
    return f"{instance.base_url}/g/{GROUP}"


async def follow(instance: Instance, group_id: str, members: list[tuple[Receiver, RemotePeer]]):
    """Every member follows the group, and each one's server receives the Accept."""
    for _, member in members:
        await send(instance, member, member.activity("Follow", group_id))

    def accepted() -> bool:
        return all(
            any(
                r.activity["type"] == "Accept" and r.activity["object"]["actor"] == member.actor_id
                for r in peer.received
            )
            for peer, member in members
        )

    await wait_for(accepted, what="every follow accepted")


async def post(instance: Instance, author: RemotePeer, group_id: str, number: int) -> str:
    """`author` posts to the group; returns the Create's id."""
    note = {
        "id": f"{author.actor_id}/notes/{number}",
        "type": "Note",
        "attributedTo": author.actor_id,
        "content": f"<p>post {number}</p>",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [group_id],
        "tag": [{"type": "Mention", "href": group_id, "name": f"@{GROUP}"}],
    }
    create = author.activity("Create", note, number)
    await send(instance, author, create)
    return str(create["id"])


def inbox(actor: RemotePeer) -> str:
    return f"/users/{actor.name}/inbox"


# --- reading what happened -----------------------------------------------------------------


async def planned(instance: Instance) -> dict[str, list[str]]:
    """Every delivery the instance wrote, as inbox URL -> activity ids in creation order."""
    rows = await instance.query(
        "SELECT d.inbox_url, a.ap_id FROM deliveries d "
        "JOIN outbox_activities a ON a.id = d.activity_id ORDER BY d.id"
    )
    plan: dict[str, list[str]] = {}
    for url, activity_id in rows:
        plan.setdefault(str(url), []).append(str(activity_id))
    return plan


async def open_deliveries(instance: Instance) -> int:
    rows = await instance.query(
        "SELECT COUNT(*) FROM deliveries WHERE state IN ('queued', 'running', 'paused')"
    )
    return int(rows[0][0])


async def delivery_to(instance: Instance, url: str, activity_id: str) -> dict[str, Any]:
    """The delivery of one activity to inbox `url`, as a dict of its columns."""
    rows = await instance.query(
        "SELECT d.state, d.attempts, d.last_error, d.last_status FROM deliveries d "
        "JOIN outbox_activities a ON a.id = d.activity_id "
        "WHERE d.inbox_url = ? AND a.ap_id = ?",
        url,
        activity_id,
    )
    assert len(rows) == 1, rows
    state, attempts, last_error, last_status = rows[0]
    return {"state": state, "attempts": attempts, "error": last_error, "status": last_status}


async def first_announces(instance: Instance, peers: list[Receiver]) -> dict[str, str]:
    """Each of these peers' inboxes -> the id of the first Announce queued for it."""
    rows = await instance.query(
        "SELECT d.inbox_url, a.ap_id FROM deliveries d "
        "JOIN outbox_activities a ON a.id = d.activity_id "
        "WHERE a.activity_type = 'Announce' ORDER BY d.id"
    )
    first: dict[str, str] = {}
    for url, activity_id in rows:
        first.setdefault(str(url), str(activity_id))
    return {url: first[url] for url in first if any(url.startswith(p.base_url) for p in peers)}


def arrivals(peers: list[Receiver]) -> dict[str, list[str]]:
    """What each inbox received, as inbox URL -> activity ids in arrival order."""
    seen: dict[str, list[str]] = {}
    for peer in peers:
        for received in peer.received:
            seen.setdefault(peer.base_url + received.path, []).append(received.activity["id"])
    return seen


def first_arrivals(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def attempts_at(peer: Receiver, path: str, activity_id: str) -> list[float]:
    """When `peer` saw each attempt to deliver `activity_id` to `path`."""
    return [r.at for r in peer.received if r.path == path and r.activity["id"] == activity_id]


# --- T74: the worker killed mid-delivery ---------------------------------------------------


async def test_worker_killed_mid_delivery_loses_nothing(launch: Launch, peers: Any) -> None:
    instance = launch(0)  # serve takes activities in; only `fedgroups worker` works them
    workers: list[subprocess.Popen[str]] = [start_worker(instance)]
    try:
        group_id = await create_group(instance)
        servers: list[Receiver] = [await peers() for _ in range(3)]
        members = [(s, s.host(f"m{n}", shared=False)) for s in servers for n in range(3)]
        await follow(instance, group_id, members)
        for server in servers:
            server.default = Reply(delay=0.4)  # slow enough to be caught with work in flight
        author = members[0][1]
        for number in range(1, 5):
            await post(instance, author, group_id, number)

        def mid_delivery() -> bool:
            announces = sum(r.activity["type"] == "Announce" for s in servers for r in s.received)
            return announces >= 3 and sum(s.in_flight for s in servers) >= 3

        await wait_for(mid_delivery, what="deliveries in flight")
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(timeout=10)
        leased = await instance.query("SELECT COUNT(*) FROM deliveries WHERE state = 'running'")
        assert leased[0][0] >= 1  # held by the dead worker: only its lease brings them back

        for server in servers:
            server.default = Reply()
        workers.append(start_worker(instance))
        await wait_for(lambda: _all_settled(instance), timeout=60, what="every delivery done")
    finally:
        for worker in workers:
            worker.kill()
            worker.wait(timeout=10)

    plan, seen = await planned(instance), arrivals(servers)
    assert len(plan) == 9 and all(len(ids) >= 5 for ids in plan.values())  # Accept + 4 posts
    duplicates = 0
    for url, ids in plan.items():
        # At least once, in creation order per inbox, the crash notwithstanding.
        assert first_arrivals(seen[url]) == ids, url
        duplicates += len(seen[url]) - len(ids)
    total = sum(len(ids) for ids in plan.values())
    print(f"\nSIGKILL mid-delivery: {total} deliveries, {duplicates} received twice")
    states = await instance.query("SELECT DISTINCT state FROM deliveries")
    assert states == [("done",)]


async def _all_settled(instance: Instance) -> bool:
    return await open_deliveries(instance) == 0


# --- T68: a peer down, then up -------------------------------------------------------------


async def test_peer_down_then_up_receives_everything_in_order(launch: Launch, peers: Any) -> None:
    instance = launch(1)
    group_id = await create_group(instance)
    home, away = await peers(), await peers()
    author = home.host("lena")
    members = [(home, author), (away, away.host("rosa")), (away, away.host("ivy", shared=False))]
    await follow(instance, group_id, members)
    await away.stop()  # connections refused from now on
    for number in range(1, 6):
        await post(instance, author, group_id, number)

    async def retrying() -> bool:
        rows = await instance.query(
            "SELECT COUNT(*) FROM deliveries WHERE domain = ? AND attempts >= 2", away.domain
        )
        return int(rows[0][0]) >= 2  # both of its inboxes have been refused, and retried

    await wait_for(retrying, what="deliveries to the downed peer retried")
    errors = await instance.query(
        "SELECT last_error FROM deliveries WHERE domain = ? AND state <> 'done' AND attempts > 0",
        away.domain,
    )
    assert len(errors) == 2 and all("ConnectError" in str(error) for (error,) in errors)
    assert await open_deliveries(instance) > 0
    await away.start()
    await wait_for(lambda: _all_settled(instance), timeout=60, what="the backlog delivered")

    plan, seen = await planned(instance), arrivals([home, away])
    away_inboxes = [url for url in plan if url.startswith(away.base_url)]
    assert sorted(away_inboxes) == [f"{away.base_url}/inbox", f"{away.base_url}/users/ivy/inbox"]
    for url in away_inboxes:
        assert len(plan[url]) >= 6  # its Accept, then every post's activities
        assert seen[url] == plan[url], url  # all of them, once each, in creation order


# --- T69, T71, T72: how each kind of answer is handled -------------------------------------


async def test_each_answer_is_handled_as_classified(launch: Launch, peers: Any) -> None:
    instance = launch(1)
    group_id = await create_group(instance)
    healthy, gone, busy, broken, slow = [await peers() for _ in range(5)]
    author = healthy.host("lena")
    reader = healthy.host("sam", shared=False)
    ivy, tom = gone.host("ivy", shared=False), busy.host("tom", shared=False)
    ada, ben = broken.host("ada", shared=False), slow.host("ben", shared=False)
    members = [(healthy, author), (healthy, reader), (gone, ivy), (busy, tom)]
    members += [(broken, ada), (slow, ben)]
    await follow(instance, group_id, members)
    followers = instance.get(f"/g/{GROUP}/followers", headers=AP).json()["totalItems"]
    assert followers == 6

    gone.default = Reply(status=410)
    busy.script(inbox(tom), Reply(status=429, headers={"Retry-After": "1"}))
    broken.default = Reply(status=500)
    slow.script(inbox(ben), Reply(delay=DEADLINE * 4))  # well past the attempt deadline
    await post(instance, author, group_id, 1)
    servers = [healthy, gone, busy, broken, slow]

    async def all_queued() -> bool:
        return len(await first_announces(instance, servers)) == 6

    await wait_for(all_queued, what="the post's announces queued")
    announce = await first_announces(instance, servers)

    def tries(peer: Receiver, actor: RemotePeer) -> list[float]:
        return attempts_at(peer, inbox(actor), announce[peer.base_url + inbox(actor)])

    await wait_for(lambda: len(tries(slow, ben)) >= 2, what="the slow peer retried")
    await wait_for(lambda: len(tries(busy, tom)) >= 2, what="the 429 retried")
    await wait_for(lambda: len(tries(broken, ada)) >= 3, what="the 500s retried")

    # 500: retried with backoff, the last error kept on the delivery.
    ada_url = broken.base_url + inbox(ada)
    failing = await delivery_to(instance, ada_url, announce[ada_url])
    assert failing["state"] in ("queued", "running") and failing["attempts"] >= 2
    assert failing["error"] == "HTTP 500" and failing["status"] == 500
    times = tries(broken, ada)
    assert all(later - earlier >= RETRY_BASE * 0.9 for earlier, later in itertools.pairwise(times))
    broken.default = Reply()
    await wait_for(lambda: _all_settled(instance), timeout=60, what="every delivery settled")

    # 410: the recipient is gone, so its membership ended and nothing is retried.
    ivy_url = gone.base_url + inbox(ivy)
    left = await delivery_to(instance, ivy_url, announce[ivy_url])
    assert (left["state"], left["attempts"]) == ("ignored", 1)
    assert left["error"] == "HTTP 410: recipient gone, memberships ended"
    assert len(tries(gone, ivy)) == 1
    after = instance.get(f"/g/{GROUP}/followers", headers=AP).json()["totalItems"]
    assert after == followers - 1
    states = await instance.query(
        "SELECT m.state FROM memberships m JOIN actors a ON a.id = m.actor_id WHERE a.ap_id = ?",
        ivy.actor_id,
    )
    assert states == [("left",)]

    # 429: retried, and not before Retry-After said.
    first, second = tries(busy, tom)[:2]
    assert second - first >= 0.95
    tom_url = busy.base_url + inbox(tom)
    assert (await delivery_to(instance, tom_url, announce[tom_url]))["state"] == "done"

    # 500 and the slow peer: delivered in the end, the last error still on record.
    recovered = await delivery_to(instance, ada_url, announce[ada_url])
    assert (recovered["state"], recovered["error"]) == ("done", "HTTP 500")
    ben_url = slow.base_url + inbox(ben)
    timed_out = await delivery_to(instance, ben_url, announce[ben_url])
    assert timed_out["state"] == "done" and timed_out["error"].startswith("timed out")
    assert timed_out["attempts"] == 2

    # The healthy inbox got its copy while the slow peer still held the first attempt.
    healthy_at = tries(healthy, reader)
    assert len(healthy_at) == 1 and healthy_at[0] < tries(slow, ben)[0] + DEADLINE
