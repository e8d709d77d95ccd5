"""Members' posts: stored sanitised and announced; votes, strangers and replays are not."""

from __future__ import annotations

import asyncio

import pytest
from tortoise.transactions import in_transaction

from fedgroups.activitypub.parse import parse_post
from fedgroups.federation.memo import remembering
from fedgroups.groups import posting
from fedgroups.groups.departures import account_deleted
from fedgroups.groups.membership import decide_membership, is_member, request_membership
from fedgroups.groups.posting import (
    delete_post,
    draft_of,
    is_carried,
    publish_draft,
    recall_carried,
    receive_post,
    thread_root_of,
    update_post,
)
from fedgroups.groups.screening import add_keyword
from fedgroups.models import Actor, Delivery, Group, HeldPost, KeywordAction, OutboxActivity, Post
from fedgroups.settings import Settings
from tests.factories import make_group
from tests.groups.test_membership import remote_actor

GROUP = "https://groups.test/g/recovery"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def note(number: int, **extra: object) -> dict[str, object]:
    return {
        "id": f"https://peer.test/notes/{number}",
        "type": "Note",
        "attributedTo": "https://peer.test/users/rosa",
        "content": "<p>hi<script>x()</script></p>",
        "to": ["https://www.w3.org/ns/activitystreams#Public", GROUP],
        **extra,
    }


async def test_member_post_is_stored_clean_and_announced(db: None, settings: Settings) -> None:
    group = await make_group(settings, "recovery")
    rosa = await remote_actor("peer.test")
    await request_membership(group, rosa, "https://peer.test/follows/1")
    stored = await receive_post(group, rosa, parse_post(note(1)))
    assert stored is not None
    assert "<script" not in stored.content
    announces = await Delivery.filter(activity__activity_type="Announce").prefetch_related(
        "activity"
    )
    # No Create was given, so every member gets the boost of the post id.
    assert [d.activity.payload["object"] for d in announces] == ["https://peer.test/notes/1"]
    assert await receive_post(group, rosa, parse_post(note(1))) is None  # replay (T15)


async def test_poll_votes_and_strangers_are_not_redistributed(db: None, settings: Settings) -> None:
    group = await make_group(settings, "recovery")
    rosa = await remote_actor("peer.test")
    sam = await remote_actor("other.test", "sam")
    await request_membership(group, rosa, "https://peer.test/follows/1")
    vote = note(2, content=None, name="Yes", inReplyTo="https://x.test/polls/1")
    assert await receive_post(group, rosa, parse_post(vote)) is None
    stranger = {**note(3), "attributedTo": sam.ap_id, "id": "https://other.test/notes/3"}
    assert await receive_post(group, sam, parse_post(stranger)) is None
    assert await Post.all().count() == 0
    assert await Delivery.filter(activity__activity_type="Announce").count() == 0


async def _member_post(settings: Settings) -> tuple[Group, Actor, Post]:
    group = await make_group(settings, "recovery")
    rosa = await remote_actor("peer.test")
    await request_membership(group, rosa, "https://peer.test/follows/1")
    create = {"id": "https://peer.test/creates/1", "type": "Create", "object": note(1)}
    stored = await receive_post(group, rosa, parse_post(note(1)), create)
    assert stored is not None
    return group, rosa, stored


async def test_the_same_post_is_carried_by_each_group_it_mentions(
    db: None, settings: Settings
) -> None:
    first, rosa, _ = await _member_post(settings)
    second = await make_group(settings, "grief")
    await request_membership(second, rosa, "https://peer.test/follows/2")
    both = note(1, to=[PUBLIC, first.actor.ap_id, second.actor.ap_id])
    assert await receive_post(second, rosa, parse_post(both)) is not None
    assert await receive_post(second, rosa, parse_post(both)) is None
    assert await Post.filter(ap_id="https://peer.test/notes/1").count() == 2


async def test_an_edit_by_the_author_is_sanitised_and_relayed(db: None, settings: Settings) -> None:
    _, rosa, stored = await _member_post(settings)
    edited = note(1, content="<p>better<script>y()</script></p>", summary="cw")
    update = {"id": "https://peer.test/updates/1", "type": "Update", "object": edited}
    assert await update_post(rosa, parse_post(edited), update) == 1
    await stored.refresh_from_db()
    assert stored.content == "<p>better</p>"
    assert stored.summary == "cw"
    assert stored.updated_at is not None
    relayed = await OutboxActivity.filter(activity_type="Announce").order_by("-id").first()
    assert relayed is not None and relayed.payload["object"] == update


async def test_only_the_author_can_edit_or_delete(db: None, settings: Settings) -> None:
    _, _, stored = await _member_post(settings)
    sam = await remote_actor("peer.test", "sam")
    assert await update_post(sam, parse_post(note(1, content="<p>mine now</p>")), {}) == 0
    assert await delete_post(sam, stored.ap_id, None) == 0
    await stored.refresh_from_db()
    assert stored.deleted_at is None
    assert "hi" in stored.content


async def test_a_deletion_tombstones_and_undoes_each_boost(db: None, settings: Settings) -> None:
    group, rosa, stored = await _member_post(settings)
    delete = {"id": "https://peer.test/deletes/1", "type": "Delete", "object": stored.ap_id}
    assert await delete_post(rosa, stored.ap_id, delete) == 1
    await stored.refresh_from_db()
    assert stored.deleted_at is not None
    assert (stored.content, stored.create_activity) == ("", None)
    undos = await OutboxActivity.filter(activity_type="Undo")
    # Software unknown: both boost forms went out, so both are undone.
    assert len(undos) == 2
    boosts = {b.ap_id for b in await OutboxActivity.filter(activity_type="Announce")}
    assert {undo.payload["object"]["id"] for undo in undos} <= boosts
    assert await thread_root_of(group, stored.ap_id) is None  # no replies hang off a tombstone


async def test_a_deleted_account_leaves_nothing_behind(db: None, settings: Settings) -> None:
    group, rosa, stored = await _member_post(settings)
    assert await account_deleted(rosa) == 1
    await stored.refresh_from_db()
    await rosa.refresh_from_db()
    assert stored.deleted_at is not None
    assert rosa.gone_at is not None
    assert not await is_member(group, rosa)
    removal = await OutboxActivity.filter(activity_type="Announce").order_by("-id").first()
    assert removal is not None
    assert removal.payload["object"]["type"] == "Delete"
    assert removal.payload["object"]["actor"] == group.actor.ap_id


async def test_a_replay_is_dropped_whether_the_post_was_republished_or_held(
    db: None, settings: Settings
) -> None:
    rosa = await remote_actor("peer.test")
    watched = await make_group(settings, "recovery")
    await request_membership(watched, rosa, "https://peer.test/follows/1")
    await add_keyword(watched, "secret", KeywordAction.HOLD)
    held = parse_post(note(5, content="<p>a secret</p>"))
    assert await receive_post(watched, rosa, held) is None
    assert await receive_post(watched, rosa, held) is None
    assert await HeldPost.filter(group=watched).count() == 1
    private = await make_group(settings, "grief", private=True)
    await request_membership(private, rosa, "https://peer.test/follows/2")
    await decide_membership(private, rosa, approve=True)
    post = parse_post(note(6, to=[PUBLIC, private.actor.ap_id]))
    republished = await receive_post(private, rosa, post)
    assert republished is not None and republished.source_ap_id == post.ap_id
    assert await receive_post(private, rosa, post) is None
    assert await Post.filter(group=private).count() == 1


async def test_the_replay_check_finds_a_post_by_its_id_not_by_walking_the_group(
    db: None, settings: Settings
) -> None:
    """Every received post asks whether the group carries it already: on the group's own
    index that read every post the group ever carried (0.4 ms a post at 1,000 posts)."""
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("the plan is read with SQLite's EXPLAIN QUERY PLAN")
    sql = posting._CARRIED.format(group="?1", ap_id="?2")
    plan = await Post._meta.db.execute_query_dict(f"EXPLAIN QUERY PLAN {sql}", [1, "x"])
    details = " | ".join(str(row["detail"]) for row in plan)
    assert "idx_posts_ap_id (ap_id=?)" in details
    assert "idx_posts_source_ap_id (source_ap_id=?)" in details
    assert "(group_id=?)" not in details.split("held_posts")[0]


async def test_the_read_ahead_finds_posts_by_their_ids_too(db: None, settings: Settings) -> None:
    """A batch reads ahead for its posts in every group: by their ids alone, never a walk
    through the posts table."""
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("the plan is read with SQLite's EXPLAIN QUERY PLAN")
    sql = posting._CARRIERS.format(among="IN (?1, ?2)")
    plan = await Post._meta.db.execute_query_dict(f"EXPLAIN QUERY PLAN {sql}", ["x", "y"])
    details = " | ".join(str(row["detail"]) for row in plan)
    assert "idx_posts_ap_id (ap_id=?)" in details
    assert "idx_posts_source_ap_id (source_ap_id=?)" in details
    assert "SCAN posts" not in details


# --- the replay check read ahead for a batch ----------------------------------------------------


class _CountedSql(str):
    """The replay check's SQL, counting each time it is put together to be run."""

    runs: list[str]

    def format(self, *args: object, **kwargs: object) -> str:
        sql = super().format(*args, **kwargs)
        self.runs.append(sql)
        return sql


@pytest.fixture
def replay_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every replay check that goes to the database (one statement each)."""
    counted = _CountedSql(posting._CARRIED)
    counted.runs = []
    monkeypatch.setattr(posting, "_CARRIED", counted)
    return counted.runs


async def test_a_batch_reads_ahead_which_groups_carry_its_posts_and_answers_each_once(
    db: None, settings: Settings, replay_checks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rosa = await remote_actor("peer.test")
    watched = await make_group(settings, "recovery")
    await request_membership(watched, rosa, "https://peer.test/follows/1")
    await add_keyword(watched, "secret", KeywordAction.HOLD)
    private = await make_group(settings, "grief", private=True)
    await request_membership(private, rosa, "https://peer.test/follows/2")
    await decide_membership(private, rosa, approve=True)
    assert await receive_post(watched, rosa, parse_post(note(1))) is not None
    assert await receive_post(watched, rosa, parse_post(note(2, content="<p>secret</p>"))) is None
    republished = parse_post(note(3, to=[PUBLIC, private.actor.ap_id]))
    assert await receive_post(private, rosa, republished) is not None
    replay_checks.clear()
    monkeypatch.setattr(posting, "IDS_PER_READ", 2)  # several statements for these four ids
    ids = [f"https://peer.test/notes/{number}" for number in range(1, 5)]
    with remembering({}):
        await recall_carried(ids)
        asked = [(watched, 1), (watched, 2), (private, 3), (private, 1), (watched, 3), (watched, 4)]
        answers = [await is_carried(group, ids[number - 1]) for group, number in asked]
        assert answers == [True, True, True, False, False, False]
        assert replay_checks == []  # published, held, republished, elsewhere, new: all read
        # Asked again, the same group's answer comes from the database, which may know more.
        assert await is_carried(watched, ids[0]) and not await is_carried(watched, ids[3])
        assert len(replay_checks) == 2


async def test_without_a_batch_or_a_read_ahead_the_replay_check_asks_the_database(
    db: None, settings: Settings, replay_checks: list[str]
) -> None:
    _, _, stored = await _member_post(settings)
    group = await Group.get(pk=stored.group_id)
    replay_checks.clear()
    await recall_carried([stored.ap_id])  # outside a batch: nothing is kept
    assert await is_carried(group, stored.ap_id)
    with remembering({}):
        await recall_carried(["https://peer.test/notes/9"])
        assert await is_carried(group, stored.ap_id)  # not among the ids read ahead
    assert len(replay_checks) == 2


async def test_two_processes_republishing_one_post_store_one_copy(
    db: None, settings: Settings
) -> None:
    """Each took the post past its replay check; the second waits for the first to commit
    and then finds its copy (PostgreSQL: the advisory lock; SQLite: the write lock)."""
    rosa = await remote_actor("peer.test")
    private = await make_group(settings, "grief", private=True)
    await request_membership(private, rosa, "https://peer.test/follows/2")
    await decide_membership(private, rosa, approve=True)
    draft = draft_of(parse_post(note(7, to=[PUBLIC, private.actor.ap_id])))
    stored, release = asyncio.Event(), asyncio.Event()

    async def first() -> Post:
        async with in_transaction():
            post = await publish_draft(private, rosa, draft)
            stored.set()
            await release.wait()  # not committed yet
        return post

    async def second() -> Post:
        await stored.wait()
        async with in_transaction():
            return await publish_draft(private, rosa, draft)

    taking, retaking = asyncio.create_task(first()), asyncio.create_task(second())
    await stored.wait()
    await asyncio.sleep(0.3)
    assert not retaking.done()  # it waits for the first to commit
    release.set()
    first_copy, second_answer = await taking, await retaking
    assert second_answer.pk == first_copy.pk
    assert await Post.filter(group=private).count() == 1
    assert await OutboxActivity.filter(activity_type="Create").count() == 1
