"""Inbox items in batches: one transaction for many, a failing item isolated, order kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from tortoise.transactions import in_transaction

from fedgroups.federation import batches, delivery
from fedgroups.federation.batches import run_batch
from fedgroups.federation.context import Federation, start_federation
from fedgroups.federation.dispatch import make_inbox_processor
from fedgroups.federation.handlers import common as handlers_common
from fedgroups.federation.offline import NetworkNeeded, check_online
from fedgroups.federation.signatures import SchemePreferences
from fedgroups.groups import posting, screening
from fedgroups.groups.actors import ensure_instance_actor
from fedgroups.groups.domains import block_domain
from fedgroups.groups.membership import decide_membership, request_membership
from fedgroups.groups.screening import add_keyword
from fedgroups.models import (
    Actor,
    BlockSeverity,
    Delivery,
    Group,
    HeldPost,
    InboxItem,
    JobState,
    KeywordAction,
    OutboxActivity,
    Post,
    write_behind,
)
from fedgroups.settings import Settings
from fedgroups.worker import InboxProcessor, Worker
from tests.factories import make_group, make_remote_actor
from tests.groups.test_posting import replay_checks
from tests.statements import watch_statements

from .delivery_support import inbox_item, local_actor, peer_client

__all__ = ["peer_client", "replay_checks"]  # fixtures
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
# Five items whose third failed and waits for its retry, the others done.
THIRD_OF_FIVE_LEFT_QUEUED = [JobState.DONE] * 2 + [JobState.QUEUED] + [JobState.DONE] * 2


@pytest.fixture(autouse=True)
def unhurried_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests count a batch's statements: a slow machine must not split a batch in two
    because its first item took longer than a transaction's time."""
    monkeypatch.setattr(batches, "BATCH_SECONDS", 60.0)


def _worker(settings: Settings, client: httpx.AsyncClient, process: InboxProcessor) -> Worker:
    return Worker(settings, client, SchemePreferences(), process, concurrency=1)


async def _queued_and_run(
    settings: Settings, client: httpx.AsyncClient, process: InboxProcessor, count: int
) -> list[str]:
    """`count` queued items, one worker run over them; their activity ids, in claim order."""
    items = [await inbox_item(n) for n in range(count)]
    await _worker(settings, client, process).run_until_idle()
    return [item.activity_ap_id for item in items]


async def _effect(sender: Actor, item: InboxItem) -> None:
    """A row written by processing `item`: unique per item, so it is written at most once."""
    await OutboxActivity.create(
        ap_id=f"{item.activity_ap_id}/effect", actor=sender, activity_type="Note", payload={}
    )


async def _effects() -> list[str]:
    rows = await OutboxActivity.all().order_by("id").values_list("ap_id", flat=True)
    return [str(ap_id).removesuffix("/effect") for ap_id in rows]


async def _states() -> list[str]:
    return list(await InboxItem.all().order_by("id").values_list("state", flat=True))


async def test_a_failing_item_is_isolated_and_the_others_commit(
    db: None, settings: Settings, peer_client: httpx.AsyncClient
) -> None:
    sender = await local_actor()
    calls: list[str] = []

    async def process(item: InboxItem) -> None:
        calls.append(item.activity_ap_id)
        await _effect(sender, item)
        if item.activity_ap_id.endswith("/2"):
            raise RuntimeError("the handler tripped")

    ids = await _queued_and_run(settings, peer_client, process, 5)
    assert calls == ids  # each processed once; the failure did not stop the ones after it
    assert await _states() == THIRD_OF_FIVE_LEFT_QUEUED
    assert await _effects() == ids[:2] + ids[3:]  # what the failing item wrote is rolled back
    failed = await InboxItem.get(activity_ap_id=ids[2])
    assert failed.attempts == 1 and failed.last_error.startswith("RuntimeError: the handler")


async def test_an_item_that_needs_the_network_runs_alone_and_in_its_place(
    db: None, settings: Settings, peer_client: httpx.AsyncClient
) -> None:
    sender = await local_actor()
    offline_tries: list[str] = []

    async def process(item: InboxItem) -> None:
        if item.activity_ap_id.endswith("/1"):
            try:
                check_online("https://peer.test/users/rosa")  # what every fetch asks first
            except NetworkNeeded:
                offline_tries.append(item.activity_ap_id)
                raise
        await _effect(sender, item)

    ids = await _queued_and_run(settings, peer_client, process, 4)
    assert offline_tries == [ids[1]]  # refused inside the batch, then run outside it
    assert await _effects() == ids  # in claim order
    assert await _states() == [JobState.DONE] * 4
    assert [item.attempts for item in await InboxItem.all()] == [1] * 4


async def test_a_batch_commits_together_and_settles_in_one_statement(db: None) -> None:
    sender = await local_actor()
    items = [await inbox_item(n) for n in range(3)]
    claimed = await InboxItem.filter(id__in=[item.id for item in items]).order_by("id")
    await InboxItem.all().update(state=JobState.RUNNING, leased_until=datetime.now(UTC))
    for item in claimed:
        await item.refresh_from_db()

    async def process(item: InboxItem) -> None:
        await _effect(sender, item)

    async def alone(item: InboxItem, error: Exception | None) -> None:
        raise AssertionError(f"{item.activity_ap_id} should have stayed in its batch: {error}")

    await run_batch(claimed, process, alone, seconds=60)
    finished = {item.finished_at for item in await InboxItem.all()}
    assert await _states() == [JobState.DONE] * 3
    assert len(finished) == 1  # one settle for the batch


# --- a post's savepoint, taken only when it writes (lazy_savepoint.py) -------------------------


@pytest.fixture
def savepoints(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every SAVEPOINT statement an item's run issues, on either database."""
    issued: list[str] = []

    def seen(query: str, _result: Any) -> None:
        if query.startswith("SAVEPOINT inbox_item"):
            issued.append(query)

    watch_statements(monkeypatch, seen)
    return issued


async def test_a_post_that_writes_takes_its_savepoint_and_one_that_reads_does_not(
    db: None, settings: Settings, peer_client: httpx.AsyncClient, savepoints: list[str]
) -> None:
    sender = await local_actor()

    async def process(item: InboxItem) -> None:
        await InboxItem.filter(id=item.id).exists()  # reads alone take no savepoint
        if item.activity_ap_id.endswith(("/1", "/3")):
            await _effect(sender, item)

    ids = await _queued_and_run(settings, peer_client, process, 5)
    assert len(savepoints) == 2
    assert await _effects() == [ids[1], ids[3]]
    assert await _states() == [JobState.DONE] * 5


async def test_a_nested_transaction_in_a_post_is_undone_with_it_alone(
    db: None, settings: Settings, peer_client: httpx.AsyncClient
) -> None:
    sender = await local_actor()

    async def process(item: InboxItem) -> None:
        async with in_transaction():  # its savepoint must follow the item's, not precede it
            await _effect(sender, item)
        if item.activity_ap_id.endswith("/2"):
            raise RuntimeError("tripped after its nested transaction")

    ids = await _queued_and_run(settings, peer_client, process, 5)
    assert await _effects() == ids[:2] + ids[3:]
    assert await _states() == THIRD_OF_FIVE_LEFT_QUEUED


async def test_a_read_that_fails_before_any_write_undoes_the_batch_and_it_is_redone(
    db: None, settings: Settings, peer_client: httpx.AsyncClient
) -> None:
    """On PostgreSQL a failed statement aborts the transaction: with no savepoint to return
    to, the items before the failing one are run again in a new one."""
    sender = await local_actor()
    calls: list[str] = []

    async def process(item: InboxItem) -> None:
        calls.append(item.activity_ap_id.rsplit("/", 1)[1])
        if item.activity_ap_id.endswith("/2"):
            await InboxItem._meta.db.execute_query("SELECT no_such_column FROM inbox_items")
        await _effect(sender, item)

    ids = await _queued_and_run(settings, peer_client, process, 5)
    # Undone, redone up to the failing item, which is then failed with its error, alone.
    assert calls == ["0", "1", "2", "0", "1", "3", "4"]
    assert await _effects() == ids[:2] + ids[3:]  # each written once
    assert await _states() == THIRD_OF_FIVE_LEFT_QUEUED
    failed = await InboxItem.get(activity_ap_id=ids[2])
    assert failed.attempts == 1 and "no_such_column" in failed.last_error


# --- the real dispatcher ------------------------------------------------------------------


@pytest.fixture
async def federation(db: None, settings: Settings) -> AsyncIterator[Federation]:
    running = start_federation(settings, await ensure_instance_actor(settings))
    yield running
    await running.close()


def _create(number: int, group_id: str, **note: Any) -> dict[str, Any]:
    author = "https://peer.test/users/rosa"
    return {
        "id": f"https://peer.test/creates/{number}",
        "type": "Create",
        "actor": author,
        "to": [PUBLIC, group_id],
        "object": {
            "id": f"https://peer.test/notes/{note.pop('note', number)}",
            "type": "Note",
            "attributedTo": author,
            "content": f"<p>post {number}</p>",
            "to": [PUBLIC, group_id],
            **note,
        },
    }


async def _received(activity: dict[str, Any]) -> InboxItem:
    return await InboxItem.create(
        activity_ap_id=activity["id"],
        activity_type=activity["type"],
        actor_ap_id=activity["actor"],
        signer_key_id=f"{activity['actor']}#main-key",
        body=activity,
        run_at=datetime.now(UTC),
    )


async def _process_all(settings: Settings, federation: Federation) -> None:
    """Run a worker over every queued item, as `fedgroups worker` does, until none is left."""
    worker = Worker(settings, federation.client, federation.prefs, make_inbox_processor(federation))
    await worker.run_until_idle()


async def _boosts_to(inbox: str) -> list[str]:
    """The posts boosted to `inbox`, in the order they go out (deliveries by id)."""
    rows = (
        await Delivery.filter(inbox_url=inbox, activity__activity_type="Announce")
        .order_by("id")
        .values_list("activity__object_ap_id", flat=True)
    )
    return [str(ap_id) for ap_id in rows]


async def test_a_thread_in_one_batch_is_stored_in_order_and_replays_are_dropped(
    settings: Settings, federation: Federation
) -> None:
    group = await make_group(settings, "recovery")
    rosa = await make_remote_actor("https://peer.test", "rosa")
    await request_membership(group, rosa, "https://peer.test/follows/1")
    group_id = group.actor.ap_id
    # The reply names only the public: it is the group's because its parent is.
    reply = _create(2, group_id, inReplyTo="https://peer.test/notes/1", to=[PUBLIC])
    reply["to"] = [PUBLIC]
    for activity in (_create(1, group_id), reply, _create(3, group_id, note=1)):
        await _received(activity)
    await _process_all(settings, federation)
    posts = await Post.filter(group=group).order_by("id").values_list("ap_id", "thread_root")
    assert posts == [("https://peer.test/notes/1", ""), ("https://peer.test/notes/2", posts[0][0])]
    boosts = await OutboxActivity.filter(activity_type="Announce").values_list(
        "object_ap_id", flat=True
    )
    assert sorted(set(boosts)) == ["https://peer.test/notes/1", "https://peer.test/notes/2"]
    assert len(boosts) == 4  # each post once, in both boost forms (software unknown)
    assert await _states() == [JobState.DONE] * 3


async def test_a_post_that_fails_half_way_leaves_nothing_and_the_batch_goes_on(
    settings: Settings, federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = await make_group(settings, "recovery")
    rosa = await make_remote_actor("https://peer.test", "rosa")
    await request_membership(group, rosa, "https://peer.test/follows/1")
    announce = posting.announce

    async def announce_or_trip(group: Group, post: Post) -> None:
        if post.ap_id.endswith("/notes/2"):  # stored, then the boost fails
            raise RuntimeError("the boost tripped")
        await announce(group, post)

    monkeypatch.setattr(posting, "announce", announce_or_trip)
    for number in (1, 2, 3):
        await _received(_create(number, group.actor.ap_id))
    await _process_all(settings, federation)
    stored = await Post.filter(group=group).order_by("id").values_list("ap_id", flat=True)
    assert stored == ["https://peer.test/notes/1", "https://peer.test/notes/3"]
    assert await _states() == [JobState.DONE, JobState.QUEUED, JobState.DONE]


# --- a batch's rows written together (models/write_behind.py) ---------------------------------


async def _members_elsewhere(group: Group, *names: str) -> list[Actor]:
    members = []
    for number, name in enumerate(names):
        member = await make_remote_actor(f"https://peer{number}.test", name)
        await request_membership(group, member, f"https://peer{number}.test/follows/{name}")
        members.append(member)
    return members


def _by(author: Actor, number: int, group_id: str, **note: Any) -> dict[str, Any]:
    activity = _create(number, group_id, **note)
    activity["actor"] = activity["object"]["attributedTo"] = author.ap_id
    activity["id"] = f"{author.ap_id}/creates/{number}"
    activity["object"]["id"] = f"{author.ap_id}/notes/{note.get('note', number)}"
    return activity


async def test_a_batch_of_posts_is_written_with_one_insert_per_table(
    settings: Settings, federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = await make_group(settings, "recovery")
    rosa, _, _ = await _members_elsewhere(group, "rosa", "ines", "tom")
    inserts: list[tuple[str, int]] = []
    insert = write_behind._insert

    async def counted(model: Any, columns: Any, rows: Any, **options: Any) -> Any:
        inserts.append((model._meta.db_table, len(rows)))
        return await insert(model, columns, rows, **options)

    monkeypatch.setattr(write_behind, "_insert", counted)
    for number in range(1, 6):
        await _received(_by(rosa, number, group.actor.ap_id))
    await _process_all(settings, federation)
    # Five posts, each boosted in both forms (software unknown) to three shared inboxes.
    assert inserts == [("posts", 5), ("outbox_activities", 10), ("deliveries", 30)]
    assert await _states() == [JobState.DONE] * 5
    notes = [f"{rosa.ap_id}/notes/{number}" for number in range(1, 6)]
    assert await Post.filter(group=group).order_by("id").values_list("ap_id", flat=True) == notes
    # Every inbox gets the boosts in the order the posts came (deliveries go out by id).
    for inbox in ("https://peer0.test/inbox", "https://peer2.test/inbox"):
        assert await _boosts_to(inbox) == [note for note in notes for _ in range(2)]


async def test_a_copy_stored_meanwhile_elsewhere_is_not_announced_twice(
    settings: Settings, federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = await make_group(settings, "recovery")
    (rosa,) = await _members_elsewhere(group, "rosa")
    insert_posts = write_behind._insert_posts

    async def raced(posts: Any) -> Any:
        # Another worker process stored the second post after this batch looked for it.
        await Post.create(
            ap_id=f"{rosa.ap_id}/notes/2",
            group=group,
            author=rosa,
            publisher=rosa,
            published_at=datetime.now(UTC),
        )
        return await insert_posts(posts)

    monkeypatch.setattr(write_behind, "_insert_posts", raced)
    for number in (1, 2, 3):
        await _received(_by(rosa, number, group.actor.ap_id))
    await _process_all(settings, federation)
    boosted = await OutboxActivity.filter(activity_type="Announce").values_list(
        "object_ap_id", flat=True
    )
    assert sorted(set(boosted)) == [f"{rosa.ap_id}/notes/1", f"{rosa.ap_id}/notes/3"]
    assert await Post.filter(group=group).count() == 3  # the other process's copy stands alone
    assert await _states() == [JobState.DONE] * 3


async def test_a_post_that_writes_at_once_waits_for_the_rows_before_it(
    settings: Settings, federation: Federation
) -> None:
    group = await make_group(settings, "recovery")
    (rosa,) = await _members_elsewhere(group, "rosa")
    group_id = group.actor.ap_id
    # The second is followers-only: the group republishes it in its own name, straight away.
    private = _by(rosa, 2, group_id, to=[group_id])
    private["to"] = [group_id]
    for activity in (_by(rosa, 1, group_id), private, _by(rosa, 3, group_id)):
        await _received(activity)
    await _process_all(settings, federation)
    written = (
        await OutboxActivity.exclude(activity_type="Accept")
        .order_by("id")
        .values_list("activity_type", "object_ap_id")
    )
    kinds = [kind for kind, _ in written]
    assert kinds == ["Announce", "Announce", "Create", "Announce", "Announce"]
    sources = await Post.filter(group=group).order_by("id").values_list("source_ap_id", flat=True)
    assert sources == ["", f"{rosa.ap_id}/notes/2", ""]
    assert await _states() == [JobState.DONE] * 3


@pytest.fixture
async def posts_saying_poison_refused(federation: Federation) -> AsyncIterator[None]:
    """The database itself refuses a post whose text says "poison": a real failure of the
    batch's multi-row INSERT, on either database. Dropped afterwards (PostgreSQL's test
    database outlives the test)."""
    connection = Post._meta.db
    if connection.capabilities.dialect == "postgres":
        await connection.execute_script(
            "CREATE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN "
            "IF NEW.content LIKE '%poison%' THEN RAISE EXCEPTION 'poison refused'; END IF; "
            "RETURN NEW; END $$ LANGUAGE plpgsql; "
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON posts "
            "FOR EACH ROW EXECUTE FUNCTION refuse_poison();"
        )
    else:
        await connection.execute_script(
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON posts "
            "WHEN NEW.content LIKE '%poison%' BEGIN SELECT RAISE(ABORT, 'poison refused'); END;"
        )
    yield
    if connection.capabilities.dialect == "postgres":
        await connection.execute_script(
            "DROP TRIGGER refuse_poison ON posts; DROP FUNCTION refuse_poison();"
        )


async def test_a_batch_whose_write_fails_keeps_the_other_posts_and_retries_the_culprit(
    settings: Settings, federation: Federation, posts_saying_poison_refused: None
) -> None:
    group = await make_group(settings, "recovery")
    rosa, _ = await _members_elsewhere(group, "rosa", "ines")
    contents = ["<p>one</p>", "<p>two</p>", "<p>poison</p>", "<p>four</p>", "<p>five</p>"]
    for number, content in enumerate(contents, start=1):
        await _received(_by(rosa, number, group.actor.ap_id, content=content))
    await _process_all(settings, federation)
    kept = [f"{rosa.ap_id}/notes/{number}" for number in (1, 2, 4, 5)]
    assert await Post.filter(group=group).order_by("id").values_list("ap_id", flat=True) == kept
    assert await _states() == THIRD_OF_FIVE_LEFT_QUEUED
    culprit = await InboxItem.get(activity_ap_id=f"{rosa.ap_id}/creates/3")
    assert culprit.attempts == 1 and "poison refused" in culprit.last_error
    # The batches rolled back left nothing behind: each kept post boosted once per form and
    # delivered once per shared inbox, in the order the posts came.
    assert await _boosts_to("https://peer1.test/inbox") == [note for note in kept for _ in range(2)]


async def test_a_batch_works_out_its_members_inboxes_once_per_audience(
    settings: Settings, federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = await make_group(settings, "recovery")
    rosa, _ = await _members_elsewhere(group, "rosa", "ines")
    plans: list[int] = []
    plan = delivery._plan

    async def counted(recipients: Any) -> Any:
        plans.append(len(recipients))
        return await plan(recipients)

    monkeypatch.setattr(delivery, "_plan", counted)
    for number in range(1, 6):
        await _received(_by(rosa, number, group.actor.ap_id))
    await _process_all(settings, federation)
    assert plans == [2, 2]  # both boost forms (software unknown), not ten times
    assert await Delivery.filter(activity__activity_type="Announce").count() == 5 * 2 * 2


async def test_a_batch_reads_the_policy_of_its_authors_servers_once(
    settings: Settings, federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = await make_group(settings, "recovery")
    members = await _members_elsewhere(group, "rosa", "ines", "tom")
    await block_domain("peer1.test", severity=BlockSeverity.LIMIT, reason="spam waves")
    reads: list[list[str]] = []
    policy_for = screening.policy_for

    async def counted(domains: Any, **options: Any) -> Any:
        reads.append(sorted(domains))
        return await policy_for(domains, **options)

    monkeypatch.setattr(screening, "policy_for", counted)
    for number, member in enumerate(members * 2):
        await _received(_by(member, number, group.actor.ap_id))
    await _process_all(settings, federation)
    assert reads == [["peer0.test", "peer1.test", "peer2.test"]]
    # The limited server's posts wait for review; the others are published.
    assert await HeldPost.filter(group=group).count() == 2
    assert await Post.filter(group=group).count() == 4


# --- the replay check, read ahead for the batch (groups/posting.py) ---------------------------


async def _recovery_and_grief(settings: Settings) -> tuple[Group, Group, Actor]:
    """A group that holds posts saying "secret" for review, a members-only group (it
    republishes its members' posts), and a member of both."""
    group = await make_group(settings, "recovery")
    (rosa,) = await _members_elsewhere(group, "rosa")
    await add_keyword(group, "secret", KeywordAction.HOLD)
    private = await make_group(settings, "grief", private=True)
    await request_membership(private, rosa, f"{rosa.ap_id}/follows/grief")
    await decide_membership(private, rosa, approve=True)
    return group, private, rosa


def _each_kind(rosa: Actor, group: Group, private: Group) -> list[dict[str, Any]]:
    """A post republished by the members-only group, one published, one held for review."""
    group_id = group.actor.ap_id
    return [
        _by(rosa, 1, private.actor.ap_id),
        _by(rosa, 2, group_id),
        _by(rosa, 3, group_id, content="<p>a secret</p>"),
    ]


def _each_kind_taken(rosa: Actor) -> tuple[list[str], list[str], list[str]]:
    """`_taken` once `_each_kind` went through: one post republished, one published, one held."""
    return [f"{rosa.ap_id}/notes/1"], [f"{rosa.ap_id}/notes/2"], [f"{rosa.ap_id}/notes/3"]


def _again(activity: dict[str, Any]) -> dict[str, Any]:
    """Another Create of the same post: the inbox would refuse the same activity id."""
    return {**activity, "id": f"{activity['id']}/again"}


async def _taken(group: Group, private: Group) -> tuple[list[str], list[str], list[str]]:
    """The posts republished, published and held, by their authors' ids."""
    sources = await Post.filter(group=private).values_list("source_ap_id", flat=True)
    published = await Post.filter(group=group).order_by("id").values_list("ap_id", flat=True)
    held = await HeldPost.filter(group=group).order_by("id").values_list("ap_id", flat=True)
    return list(sources), [str(ap_id) for ap_id in published], [str(ap_id) for ap_id in held]


async def test_a_batch_of_new_posts_runs_no_replay_check_of_its_own(
    settings: Settings, federation: Federation, replay_checks: list[str]
) -> None:
    group = await make_group(settings, "recovery")
    (rosa,) = await _members_elsewhere(group, "rosa")
    for number in range(1, 6):
        await _received(_by(rosa, number, group.actor.ap_id))
    await _process_all(settings, federation)
    assert replay_checks == []  # one read ahead for the batch answered all five
    assert await Post.filter(group=group).count() == 5
    assert await _states() == [JobState.DONE] * 5


async def test_replays_of_published_held_and_republished_posts_are_refused_in_a_batch(
    settings: Settings, federation: Federation, replay_checks: list[str]
) -> None:
    group, private, rosa = await _recovery_and_grief(settings)
    first = _each_kind(rosa, group, private)
    for activity in first:
        await _received(activity)
    await _process_all(settings, federation)
    taken = await _taken(group, private)
    assert taken == _each_kind_taken(rosa)
    replay_checks.clear()
    for activity in first:
        await _received(_again(activity))
    await _process_all(settings, federation)
    assert replay_checks == []  # the batch's read-ahead knew all three
    assert await _taken(group, private) == taken
    boosted = await OutboxActivity.filter(activity_type="Announce").count()
    assert boosted == 2  # the published post, once, in both boost forms
    assert await _states() == [JobState.DONE] * 6


async def test_a_post_republished_by_another_process_meanwhile_is_not_republished_again(
    settings: Settings, federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    _group, private, rosa = await _recovery_and_grief(settings)
    activity = _by(rosa, 1, private.actor.ap_id)
    note = activity["object"]["id"]
    recall = posting.recall_carried

    async def read_ahead_then_lose_the_race(ap_ids: Any) -> None:
        await recall(ap_ids)  # the batch learns the group does not carry the post yet
        # Another worker process commits its republished copy before this batch writes.
        await Post.create(
            ap_id=f"{private.actor.ap_id}/notes/elsewhere", source_ap_id=note, group=private,
            author=rosa, publisher=private.actor, is_public=False, content="<p>post 1</p>",
            published_at=datetime.now(UTC),
        )  # fmt: skip

    monkeypatch.setattr(handlers_common, "recall_carried", read_ahead_then_lose_the_race)
    await _received(activity)
    await _process_all(settings, federation)
    copies = await Post.filter(group=private).values_list("ap_id", flat=True)
    assert copies == [f"{private.actor.ap_id}/notes/elsewhere"]
    assert not await OutboxActivity.filter(activity_type="Create").exists()  # said once only
    assert await _states() == [JobState.DONE]


async def test_the_same_post_twice_in_one_batch_is_taken_once(
    settings: Settings, federation: Federation, replay_checks: list[str]
) -> None:
    """The second copy must not take the read-ahead's answer, given before the first copy
    was taken: it asks the database. A republished post has no unique key to fall back on."""
    group, private, rosa = await _recovery_and_grief(settings)
    for activity in _each_kind(rosa, group, private):
        await _received(activity)
        await _received(_again(activity))
    await _process_all(settings, federation)
    taken = await _taken(group, private)
    assert taken == _each_kind_taken(rosa)
    assert await OutboxActivity.filter(activity_type="Announce").count() == 2
    assert await OutboxActivity.filter(activity_type="Create", actor=private.actor).count() == 1
    assert len(replay_checks) == 3  # the second copies alone
    assert await _states() == [JobState.DONE] * 6


async def test_a_read_ahead_answer_does_not_outlive_an_item_that_is_not_a_post(
    settings: Settings, federation: Federation, replay_checks: list[str]
) -> None:
    group, private, rosa = await _recovery_and_grief(settings)
    held = _each_kind(rosa, group, private)[2]
    await _received(held)
    await _process_all(settings, federation)
    replay_checks.clear()
    # Read ahead as held; the author withdraws it, then sends it again, in the same batch.
    note_id = held["object"]["id"]
    withdrawal = {"id": f"{note_id}/delete", "type": "Delete", "actor": rosa.ap_id}
    await _received({**withdrawal, "object": note_id})
    await _received(_again(held))
    await _process_all(settings, federation)
    assert await HeldPost.filter(group=group).values_list("ap_id", flat=True) == [note_id]
    assert len(replay_checks) == 1  # the Delete emptied the memo: the database was asked
    assert await _states() == [JobState.DONE] * 3
