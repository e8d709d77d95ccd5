"""A group's threads, most recently active first, whatever one busy thread does."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fedgroups.groups import threads
from fedgroups.models import Actor, Group, Post
from fedgroups.settings import Settings
from tests.factories import make_group
from tests.groups.test_membership import remote_actor
from tests.statements import watch_statements

START = datetime(2026, 1, 1, tzinfo=UTC)


def _post(group: Group, author: Actor, ap_id: str, minutes: float, root: str = "") -> Post:
    return Post(
        ap_id=ap_id, thread_root=root, in_reply_to=root, group=group, author=author,
        publisher=author, published_at=START + timedelta(minutes=minutes),
    )  # fmt: skip


@pytest.fixture
def rows_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many rows each SELECT sent back, on either database."""
    counts: list[int] = []

    def seen(query: str, result: Any) -> None:
        if query.lstrip().upper().startswith("SELECT"):
            counts.append(len(result[1]))

    watch_statements(monkeypatch, seen)
    return counts


async def test_a_busy_thread_is_listed_once_without_reading_its_replies(
    db: None, settings: Settings, rows_read: list[int]
) -> None:
    group = await make_group(settings, "recovery")
    rosa = await remote_actor("peer.test")
    roots = [f"https://peer.test/threads/{n}" for n in range(45)]
    posts = [_post(group, rosa, ap_id, n) for n, ap_id in enumerate(roots)]
    # A daily check-in: 600 replies, all newer than any other thread's posts.
    check_in = roots[0]
    posts += [
        _post(group, rosa, f"https://peer.test/replies/{n}", 100 + n, check_in) for n in range(600)
    ]
    await Post.bulk_create(posts, batch_size=500)
    scope = Post.filter(group=group, deleted_at=None)
    rows_read.clear()
    first = await threads.thread_page(scope, 1)
    keys = [summary.root.ap_id for summary in first.threads]
    assert keys == [check_in, *roots[:-20:-1]]
    assert first.threads[0].replies == 600 and first.has_next
    assert sum(rows_read) < 100  # not the 600 replies
    second = await threads.thread_page(scope, 2)
    assert [summary.root.ap_id for summary in second.threads] == roots[-20:-40:-1]
    third = await threads.thread_page(scope, 3)
    assert [summary.root.ap_id for summary in third.threads] == roots[5:0:-1]
    assert not third.has_next


async def test_threads_come_in_the_order_of_their_latest_post_ties_included(
    db: None, settings: Settings
) -> None:
    group = await make_group(settings, "recovery")
    rosa = await remote_actor("peer.test")
    chance = random.Random(7)
    roots = [f"https://peer.test/threads/{n}" for n in range(60)]
    posts = [_post(group, rosa, ap_id, chance.randrange(50)) for ap_id in roots]
    for n in range(400):  # replies at few distinct moments, so many share one
        root = chance.choice(roots[:10]) if n % 2 else chance.choice(roots)
        posts.append(
            _post(group, rosa, f"https://peer.test/replies/{n}", chance.randrange(80), root)
        )
    await Post.bulk_create(posts, batch_size=500)
    stored = await Post.filter(group=group).values_list(
        "id", "ap_id", "thread_root", "published_at"
    )
    expected: dict[str, datetime] = {}
    for _id, ap_id, root, published_at in sorted(stored, key=lambda row: (row[3], row[0]))[::-1]:
        expected.setdefault(str(root or ap_id), published_at)
    scope = Post.filter(group=group, deleted_at=None)
    for wanted in (1, 5, 21, 41, 60, 70):
        found = await threads._active_thread_keys(scope, wanted)
        assert found == list(expected.items())[:wanted]
