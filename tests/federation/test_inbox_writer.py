"""Group commit in the inbox: shared commits, duplicates, failures answered 503, shutdown flush."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import httpx
import pytest
from starlette.applications import Starlette

from fedgroups.activitypub.parse import parse_actor
from fedgroups.errors import StoreUnavailable
from fedgroups.federation.inbox_writer import InboxWriter
from fedgroups.models import InboxItem, JobState
from fedgroups.models.inbox_item import NewInboxItem
from tests.peer import RemotePeer

INBOX = "https://groups.test/inbox"

# A real refusal by the database for some rows (ids containing "poison") or for all of them.
_SQLITE_TRIGGER = (
    "CREATE TRIGGER refuse_items BEFORE INSERT ON inbox_items WHEN NEW.activity_ap_id LIKE '{}' "
    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
)
_POSTGRES_TRIGGER = (
    "CREATE FUNCTION refuse_items() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF NEW.activity_ap_id LIKE '{}' THEN RAISE EXCEPTION 'refused by the test'; END IF; "
    "RETURN NEW; END $$; CREATE TRIGGER refuse_items BEFORE INSERT ON inbox_items "
    "FOR EACH ROW EXECUTE FUNCTION refuse_items();"
)
_DROP = {
    "sqlite": "DROP TRIGGER IF EXISTS refuse_items;",
    "postgres": "DROP TRIGGER IF EXISTS refuse_items ON inbox_items; "
    "DROP FUNCTION IF EXISTS refuse_items();",
}


Refuse = Callable[[str], Awaitable[None]]


def new_item(number: int, activity_id: str = "") -> NewInboxItem:
    actor = "https://peer.test/users/rosa"
    activity_id = activity_id or f"{actor}/activities/{number}"
    return NewInboxItem(
        activity_ap_id=activity_id,
        activity_type="Create",
        actor_ap_id=actor,
        domain="peer.test",
        signer_key_id=f"{actor}#main-key",
        recipient=INBOX,
        body={"id": activity_id, "type": "Create", "n": number},
        state=JobState.QUEUED,
        run_at=datetime.now(UTC),
    )


@pytest.fixture
async def refuse_rows() -> AsyncIterator[Refuse]:
    """`await refuse_rows(pattern)` makes the database refuse inserts of matching activity ids."""
    connection = InboxItem._meta.db
    dialect = "postgres" if connection.capabilities.dialect == "postgres" else "sqlite"

    async def install(pattern: str) -> None:
        template = _POSTGRES_TRIGGER if dialect == "postgres" else _SQLITE_TRIGGER
        await connection.execute_script(template.format(pattern))

    yield install
    await connection.execute_script(_DROP[dialect])  # the PostgreSQL tier shares its schema


async def test_concurrent_items_share_one_commit(db: None) -> None:
    writer = InboxWriter()
    ids = await asyncio.gather(*(writer.store(new_item(n)) for n in range(20)))
    assert writer.commits == 1
    assert len(set(ids)) == 20
    stored = await InboxItem.all().order_by("id")
    assert [item.id for item in stored] == sorted(ids)  # type: ignore[type-var]
    assert stored[3].body == {"id": stored[3].activity_ap_id, "type": "Create", "n": 3}
    assert stored[3].state == JobState.QUEUED


async def test_batches_stay_within_their_size(db: None) -> None:
    writer = InboxWriter(max_batch=8)
    await asyncio.gather(*(writer.store(new_item(n)) for n in range(20)))
    assert writer.commits == 3
    assert await InboxItem.all().count() == 20


async def test_copies_in_one_batch_are_stored_once(db: None) -> None:
    writer = InboxWriter()
    await writer.store(new_item(0))
    same = new_item(1)
    results = await asyncio.gather(
        writer.store(same), writer.store(same), writer.store(new_item(0)), writer.store(same)
    )
    assert results[0] is not None
    assert results[1:] == [None, None, None]  # copies, and a replay of an earlier commit
    assert await InboxItem.all().count() == 2


async def test_a_refused_row_fails_only_its_own_request(db: None, refuse_rows: Refuse) -> None:
    await refuse_rows("%poison%")
    writer = InboxWriter()
    items = [new_item(1), new_item(2, "https://peer.test/poison/2"), new_item(3)]
    results = await asyncio.gather(*(writer.store(i) for i in items), return_exceptions=True)
    assert isinstance(results[1], StoreUnavailable)
    assert isinstance(results[0], int) and isinstance(results[2], int)
    stored = await InboxItem.all().values_list("activity_ap_id", flat=True)
    assert sorted(stored) == sorted([items[0].activity_ap_id, items[2].activity_ap_id])


async def test_close_commits_what_is_waiting_then_refuses(db: None) -> None:
    writer = InboxWriter()
    waiting = [asyncio.create_task(writer.store(new_item(n))) for n in range(5)]
    await asyncio.sleep(0)  # every request has handed its item over
    await writer.close()
    assert all(task.done() for task in waiting)
    assert await InboxItem.all().count() == 5
    with pytest.raises(StoreUnavailable):
        await writer.store(new_item(9))


@pytest.fixture
async def known_peer(app: Starlette) -> RemotePeer:
    peer = RemotePeer(base_url="https://peer.test")
    await app.state.federation.remote_actors.store_actor(parse_actor(peer.actor_document()))
    return peer


def signed(peer: RemotePeer, number: int, path: str = "activities") -> tuple[bytes, dict[str, str]]:
    activity = peer.activity("Create", {"type": "Note", "content": "hi"}, number)
    activity["id"] = f"{peer.actor_id}/{path}/{number}"
    return peer.signed_post(INBOX, activity)


async def post_all(
    client: httpx.AsyncClient, requests: list[tuple[bytes, dict[str, str]]]
) -> list[int]:
    responses = await asyncio.gather(
        *(client.post("/inbox", content=body, headers=headers) for body, headers in requests)
    )
    return [response.status_code for response in responses]


async def test_inbox_answers_each_request_once_its_batch_is_committed(
    client: httpx.AsyncClient, known_peer: RemotePeer
) -> None:
    requests = [signed(known_peer, n) for n in range(12)]
    assert await post_all(client, [*requests, requests[0]]) == [202] * 13
    assert await InboxItem.all().count() == 12


async def test_inbox_answers_503_when_the_commit_fails(
    client: httpx.AsyncClient, known_peer: RemotePeer, refuse_rows: Refuse
) -> None:
    await refuse_rows("%")
    statuses = await post_all(client, [signed(known_peer, n) for n in range(6)])
    assert statuses == [503] * 6  # never 202 for what is not stored
    assert await InboxItem.all().count() == 0


async def test_inbox_stores_the_neighbours_of_a_refused_row(
    client: httpx.AsyncClient, known_peer: RemotePeer, refuse_rows: Refuse
) -> None:
    await refuse_rows("%poison%")
    requests = [signed(known_peer, n) for n in range(4)] + [signed(known_peer, 9, "poison")]
    assert await post_all(client, requests) == [202] * 4 + [503]
    assert await InboxItem.all().count() == 4
