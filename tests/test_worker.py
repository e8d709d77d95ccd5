"""The worker loop on a real database: draining, retry or fail, shutdown, and SIGKILL (T74, T75)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from fedgroups.errors import KeyUnavailable, MalformedActivity, SignatureError
from fedgroups.federation import queue
from fedgroups.federation.delivery import enqueue
from fedgroups.federation.dispatch import Ignored
from fedgroups.federation.fetch import FetchStatusError
from fedgroups.federation.signatures import SchemePreferences
from fedgroups.models import Delivery, InboxItem, JobState, OutboxActivity, PeerDomain
from fedgroups.settings import Settings
from fedgroups.worker import InboxProcessor, Worker, is_bad_input
from tests.peer import Reply

from .federation.delivery_support import (
    ReceiverFactory,
    eventually,
    inbox_item,
    keys_of,
    local_actor,
    outbox_activity,
    peer_client,
    receivers,
    remote_actor,
    utcnow,
)

__all__ = ["peer_client", "receivers"]  # fixtures
REPO = Path(__file__).resolve().parents[1]


async def _all_delivered() -> bool:
    return not await Delivery.exclude(state=JobState.DONE).exists()


async def _unused(item: InboxItem) -> None:
    raise AssertionError("no inbox items in this test")


def _worker(
    settings: Settings, client: httpx.AsyncClient, process: InboxProcessor, **options: object
) -> Worker:
    return Worker(settings, client, SchemePreferences(), process, **options)  # type: ignore[arg-type]


async def test_run_until_idle_drains_inbox_items_in_order(
    db: None, settings: Settings, peer_client: httpx.AsyncClient
) -> None:
    seen: list[str] = []

    async def process(item: InboxItem) -> None:
        seen.append(item.activity_ap_id)

    items = [await inbox_item(n, run_at=utcnow() - timedelta(seconds=10 - n)) for n in range(5)]
    await inbox_item(9, run_at=utcnow() + timedelta(minutes=1))  # not due yet
    await _worker(settings, peer_client, process, concurrency=1).run_until_idle()
    assert seen == [item.activity_ap_id for item in items]
    states = await InboxItem.all().order_by("id").values_list("state", flat=True)
    assert states == [JobState.DONE] * 5 + [JobState.QUEUED]


async def test_a_failing_processor_leaves_the_item_queued_for_retry(
    db: None, settings: Settings, peer_client: httpx.AsyncClient
) -> None:
    calls = 0

    async def process(item: InboxItem) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("the handler tripped")

    item = await inbox_item(1)
    worker = _worker(settings, peer_client, process)
    await worker.run_until_idle()
    await worker.run_until_idle()  # the retry is not due yet: no second call
    await item.refresh_from_db()
    assert (calls, item.state, item.attempts) == (1, JobState.QUEUED, 1)
    assert item.last_error.startswith("RuntimeError: the handler tripped\n")
    assert "Traceback" in item.last_error or "raise RuntimeError" in item.last_error
    assert timedelta(seconds=20) < item.run_at - utcnow() < timedelta(seconds=40)
    await InboxItem.filter(id=item.id).update(run_at=utcnow())
    await worker.run_until_idle()
    await item.refresh_from_db()
    assert (calls, item.attempts) == (2, 2)


@pytest.mark.parametrize(
    ("error", "state"),
    [
        (MalformedActivity("object is not a Note"), JobState.FAILED),
        (SignatureError("embedded signature does not verify"), JobState.FAILED),
        (FetchStatusError("https://peer.test/notes/1", 404), JobState.FAILED),
        (FetchStatusError("https://peer.test/notes/1", 503), JobState.QUEUED),
        (KeyUnavailable("peer.test did not answer"), JobState.QUEUED),
    ],
    ids=["malformed", "signature", "fetch-404", "fetch-503", "key-unavailable"],
)
async def test_bad_input_fails_without_retry(
    db: None,
    settings: Settings,
    peer_client: httpx.AsyncClient,
    error: Exception,
    state: JobState,
) -> None:
    async def process(item: InboxItem) -> None:
        raise error

    item = await inbox_item(1)
    await _worker(settings, peer_client, process).run_until_idle()
    await item.refresh_from_db()
    assert item.state == state
    assert item.last_error.startswith(f"{type(error).__name__}: {error}")
    assert is_bad_input(error) is (state == JobState.FAILED)
    if state == JobState.FAILED:
        assert item.finished_at is not None and item.attempts == 1


async def test_a_processor_may_settle_the_item_itself(
    db: None, settings: Settings, peer_client: httpx.AsyncClient
) -> None:
    async def process(item: InboxItem) -> None:
        await queue.ignore(item, "Like activities are not handled")

    item = await inbox_item(1)
    await _worker(settings, peer_client, process).run_until_idle()
    await item.refresh_from_db()
    assert (item.state, item.last_error) == (JobState.IGNORED, "Like activities are not handled")


async def test_activities_the_dispatcher_ignores_are_marked_ignored(
    db: None, settings: Settings, peer_client: httpx.AsyncClient
) -> None:
    async def process(item: InboxItem) -> None:
        raise Ignored("no handler for Like Note")

    item = await inbox_item(1)
    await _worker(settings, peer_client, process).run_until_idle()
    await item.refresh_from_db()
    assert (item.state, item.last_error, item.attempts) == (
        JobState.IGNORED,
        "no handler for Like Note",
        1,
    )


async def test_deliveries_enqueued_while_processing_go_out_in_the_same_drain(
    db: None, settings: Settings, receivers: ReceiverFactory, peer_client: httpx.AsyncClient
) -> None:
    sender = await local_actor()
    peer = await receivers(keys_of(sender))
    rosa = await remote_actor(peer.base_url, "rosa")

    async def process(item: InboxItem) -> None:  # e.g. a group announcing a member's post
        await enqueue(await outbox_activity(sender, item.id), [rosa])

    await inbox_item(1)
    await _worker(settings, peer_client, process).run_until_idle()
    assert peer.ids() == [f"{sender.ap_id}/activities/1"]
    assert (await Delivery.get()).state == JobState.DONE


async def test_run_until_idle_gives_up_after_its_timeout_and_hands_jobs_back(
    db: None, settings: Settings, peer_client: httpx.AsyncClient
) -> None:
    async def process(item: InboxItem) -> None:
        await asyncio.Event().wait()  # never finishes

    item = await inbox_item(1)
    with pytest.raises(TimeoutError):
        await _worker(settings, peer_client, process).run_until_idle(timeout=0.2)
    await item.refresh_from_db()
    assert (item.state, item.attempts, item.leased_until) == (JobState.QUEUED, 0, None)


@pytest.fixture
async def forever(
    settings: Settings, peer_client: httpx.AsyncClient
) -> AsyncIterator[tuple[Worker, asyncio.Event, asyncio.Event]]:
    """A worker in run_forever with a long poll; yields (worker, stop, started-processing)."""
    started = asyncio.Event()

    async def process(item: InboxItem) -> None:
        started.set()
        if item.activity_type == "Block":
            await asyncio.Event().wait()

    worker = _worker(settings, peer_client, process, poll_interval=30, shutdown_grace=0.1)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_forever(stop))
    yield worker, stop, started
    stop.set()
    async with asyncio.timeout(5):
        await task


async def test_notify_wakes_the_worker_and_stop_ends_it(
    db: None, forever: tuple[Worker, asyncio.Event, asyncio.Event]
) -> None:
    worker, _stop, started = forever
    await asyncio.sleep(0.05)  # the worker is now idle, polling every 30 s
    item = await inbox_item(1)
    worker.notify()
    async with asyncio.timeout(2):
        await started.wait()
    for _ in range(100):
        await item.refresh_from_db()
        if item.state == JobState.DONE:
            break
        await asyncio.sleep(0.01)
    assert item.state == JobState.DONE


@pytest.fixture
async def idle_worker(
    settings: Settings, peer_client: httpx.AsyncClient
) -> AsyncIterator[tuple[Worker, list[tuple[str, float]]]]:
    """A worker in run_forever polling from 0.05 s up to 3 s; yields (worker, processed)."""
    processed: list[tuple[str, float]] = []  # (activity id, loop time)

    async def process(item: InboxItem) -> None:
        processed.append((item.activity_ap_id, asyncio.get_running_loop().time()))

    worker = _worker(settings, peer_client, process, poll_interval=0.05, poll_max=3.0)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_forever(stop))
    yield worker, processed
    stop.set()
    async with asyncio.timeout(5):
        await task


async def test_an_idle_worker_reads_instead_of_claiming(
    db: None, idle_worker: tuple[Worker, list[tuple[str, float]]], caplog: pytest.LogCaptureFixture
) -> None:
    await asyncio.sleep(0.2)  # past the first claims
    with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
        await asyncio.sleep(1.5)
    statements = [record.getMessage().split(None, 1)[0].upper() for record in caplog.records]
    # Polling every 0.05 s with two claims each would be 60 UPDATEs: none, and few reads.
    assert "UPDATE" not in statements
    assert 1 <= statements.count("SELECT") <= 8


async def test_an_idle_worker_wakes_when_work_falls_due(
    db: None, idle_worker: tuple[Worker, list[tuple[str, float]]]
) -> None:
    worker, processed = idle_worker
    await asyncio.sleep(0.2)
    # Queued by another process: no notify(). Found by the next idle poll.
    loop = asyncio.get_running_loop()
    queued_at = loop.time()
    await inbox_item(1)
    await eventually(lambda: len(processed) == 1, timeout=5)
    assert processed[0][1] - queued_at < 3.0 + 0.5
    # Queued here to run soon (a retry): taken when due, not at the idle poll after it.
    await asyncio.sleep(2)  # idle for so long that the idle wait is now 1.6 s or more
    due_in = 0.5
    queued_at = loop.time()  # before run_at is set: the insert may take a while
    await inbox_item(2, run_at=utcnow() + timedelta(seconds=due_in))
    worker.notify()
    await eventually(lambda: len(processed) == 2, timeout=5)
    assert due_in <= processed[1][1] - queued_at < due_in + 0.8


async def test_shutdown_hands_unfinished_jobs_back(
    db: None, forever: tuple[Worker, asyncio.Event, asyncio.Event]
) -> None:
    worker, stop, started = forever
    item = await inbox_item(1)
    await InboxItem.filter(id=item.id).update(activity_type="Block")
    worker.notify()
    async with asyncio.timeout(2):
        await started.wait()
    stop.set()
    for _ in range(100):
        await item.refresh_from_db()
        if item.state != JobState.RUNNING:
            break
        await asyncio.sleep(0.02)
    assert (item.state, item.attempts, item.leased_until) == (JobState.QUEUED, 0, None)


async def test_run_forever_probes_unavailable_peers_and_catches_up(
    db: None, settings: Settings, receivers: ReceiverFactory, peer_client: httpx.AsyncClient
) -> None:
    sender = await local_actor()
    peer = await receivers(keys_of(sender))
    await PeerDomain.create(domain=f"127.0.0.1:{peer.port}", unavailable_since=utcnow())
    await enqueue(await outbox_activity(sender, 1), [await remote_actor(peer.base_url, "rosa")])
    assert (await Delivery.get()).state == JobState.PAUSED
    worker = _worker(settings, peer_client, _unused, poll_interval=0.02, probe_interval=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_forever(stop))
    try:
        await eventually(_all_delivered, timeout=5)
    finally:
        stop.set()
        await task
    assert peer.ids() == [f"{sender.ap_id}/activities/1"]
    assert (await PeerDomain.get(domain=f"127.0.0.1:{peer.port}")).unavailable_since is None


# --- crash safety --------------------------------------------------------------------------

WORKER_SCRIPT = """
import asyncio, datetime
from fedgroups.settings import Settings
from fedgroups.worker import run_worker
asyncio.run(run_worker(
    Settings.from_env(), 2,
    delivery_lease=datetime.timedelta(seconds=1.5), poll_interval=0.05, shutdown_grace=2,
))
"""


async def _start_worker(
    settings: Settings, cwd: Path, script: str = WORKER_SCRIPT, *args: str
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "FEDGROUPS_BASE_URL": settings.base_url,
        "FEDGROUPS_DATABASE_URL": settings.database_url,
        "FEDGROUPS_DATA_DIR": str(settings.data_dir),
        "FEDGROUPS_SECRET_KEY": settings.secret_key,
        "FEDGROUPS_ALLOW_PRIVATE_PEERS": "1",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, *args, cwd=cwd, env=env, stderr=asyncio.subprocess.PIPE
    )


async def test_sigkill_mid_delivery_loses_nothing(
    db: None, settings: Settings, receivers: ReceiverFactory, tmp_path: Path
) -> None:
    sender = await local_actor()
    peer = await receivers(keys_of(sender))
    peer.default = Reply(hold=True)  # takes the request, then keeps it open
    rosa = await remote_actor(peer.base_url, "rosa")
    ivy = await remote_actor(peer.base_url, "ivy", shared=False)
    activities = [await outbox_activity(sender, n) for n in range(1, 4)]
    for activity in activities:
        await enqueue(activity, [rosa, ivy])
    first = await _start_worker(settings, tmp_path)
    await eventually(lambda: peer.in_flight == 2)  # each inbox's first delivery is in its POST
    first.send_signal(signal.SIGKILL)
    await first.wait()
    peer.default = Reply()
    peer.release_held()
    assert await Delivery.filter(state=JobState.RUNNING).count() == 2  # leased to the dead
    fresh = await _start_worker(settings, tmp_path)
    ids = [a.ap_id for a in activities]
    ivy_inbox = "/users/ivy/inbox"
    try:
        await eventually(lambda: set(peer.ids("/inbox")) == set(ids) == set(peer.ids(ivy_inbox)))
        await eventually(_all_delivered)
    finally:
        fresh.send_signal(signal.SIGTERM)
        _, stderr = await fresh.communicate()
    assert fresh.returncode == 0, stderr.decode()
    for inbox in ("/inbox", ivy_inbox):
        # At least once, in order; the one cut off by the kill arrives again (same id).
        assert peer.ids(inbox) == [ids[0], *ids]


INBOX_WORKER_SCRIPT = """
import asyncio, datetime, pathlib, sys
from fedgroups.models import Actor, OutboxActivity
from fedgroups.settings import Settings
from fedgroups.worker import run_worker
sender_id, hang_on, mark = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])

async def process(item):
    sender = await Actor.get(ap_id=sender_id)
    await OutboxActivity.create(
        ap_id=item.activity_ap_id + "/effect", actor=sender, activity_type="Note", payload={}
    )
    if item.activity_ap_id == hang_on:
        mark.write_text("in the middle of a batch")
        await asyncio.Event().wait()

asyncio.run(run_worker(
    Settings.from_env(), 2, process_inbox_item=process,
    inbox_lease=datetime.timedelta(seconds=1.5), poll_interval=0.05, shutdown_grace=2,
))
"""


async def _all_processed() -> bool:
    return not await InboxItem.exclude(state=JobState.DONE).exists()


async def test_sigkill_mid_batch_loses_no_inbox_item(
    db: None, settings: Settings, tmp_path: Path
) -> None:
    sender = await local_actor()
    ids = [(await inbox_item(n)).activity_ap_id for n in range(5)]
    mark = tmp_path / "hanging"
    first = await _start_worker(
        settings, tmp_path, INBOX_WORKER_SCRIPT, sender.ap_id, ids[3], str(mark)
    )
    await eventually(mark.exists)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    effects = OutboxActivity.all().values_list("ap_id", flat=True)
    assert f"{ids[3]}/effect" not in await effects  # its batch never committed
    assert await InboxItem.filter(state=JobState.RUNNING).exists()  # leased to the dead
    fresh = await _start_worker(
        settings, tmp_path, INBOX_WORKER_SCRIPT, sender.ap_id, "", str(mark)
    )
    try:
        await eventually(_all_processed)
    finally:
        fresh.send_signal(signal.SIGTERM)
        _, stderr = await fresh.communicate()
    assert fresh.returncode == 0, stderr.decode()
    # Each item's work was done exactly once (the effect's id is unique): none lost, none twice.
    assert sorted(await effects) == sorted(f"{ap_id}/effect" for ap_id in ids)
