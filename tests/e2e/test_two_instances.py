"""fedgroups instances federating with each other over the real wire.

A hosts the groups; people on B and C follow them, post, reply, edit, delete and leave, all
through the `fedgroups` command as an operator would, while each instance's own worker
delivers and processes. Outcomes are read from each instance's database and HTTP endpoints.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.e2e.instances import Instance, wait_for

pytestmark = pytest.mark.e2e
AP = {"Accept": "application/activity+json"}
PASSWORD = "correct horse battery"
Start = Callable[..., list[Instance]]


@pytest.fixture(scope="module")
def abc(start_instances: Start) -> list[Instance]:
    """Three running instances shared by this module's tests (each test uses its own names)."""
    return start_instances("a", "b", "c")


async def subscription_state(instance: Instance, person: str, group_id: str) -> str | None:
    rows = await instance.query(
        "SELECT s.state FROM group_subscriptions s "
        "JOIN actors p ON p.id = s.actor_id JOIN actors g ON g.id = s.group_actor_id "
        "WHERE p.username = ? AND p.is_local = ? AND g.ap_id = ?",
        person, True, group_id,
    )  # fmt: skip
    return str(rows[0][0]) if rows else None


async def state_is(instance: Instance, person: str, group_id: str, state: str) -> bool:
    return await subscription_state(instance, person, group_id) == state


async def kept_post(instance: Instance, group_id: str, post_id: str) -> dict[str, object] | None:
    """A post the instance keeps under a remote group, as a dict of its columns."""
    columns = (
        "content", "summary", "in_reply_to", "thread_root", "announced_at", "updated_at",
        "deleted_at", "is_public",
    )  # fmt: skip
    rows = await instance.query(
        f"SELECT {', '.join('r.' + c for c in columns)} FROM remote_group_posts r "
        "JOIN actors g ON g.id = r.group_actor_id WHERE g.ap_id = ? AND r.ap_id = ?",
        group_id, post_id,
    )  # fmt: skip
    return dict(zip(columns, rows[0], strict=True)) if rows else None


def fetch(url: str) -> httpx.Response:
    """An anonymous ActivityPub GET, as any server could make."""
    return httpx.get(url, headers=AP, timeout=10)


def announced_ids(instance: Instance, slug: str) -> list[object]:
    """Ids of the posts the group boosted, in either form (the id, or the Create wrapped)."""
    outbox = instance.get(f"/g/{slug}/outbox?page=1", headers=AP).json()
    boosts = [item["object"] for item in outbox["orderedItems"] if item["type"] == "Announce"]
    return [boost["object"]["id"] if isinstance(boost, dict) else boost for boost in boosts]


def followers(instance: Instance, slug: str) -> int:
    return int(instance.get(f"/g/{slug}/followers", headers=AP).json()["totalItems"])


async def test_open_group_across_three_instances(abc: list[Instance]) -> None:
    a, b, c = abc
    a.cli("group", "create", "recovery", "--name", "Recovery Circle")
    b.cli("user", "create", "bob", "--password", PASSWORD)
    c.cli("user", "create", "cat", "--password", PASSWORD)
    group_id, handle = f"{a.base_url}/g/recovery", f"recovery@{a.domain}"

    # Follow: WebFinger, Follow, the group's Accept recorded where the person lives.
    asked = b.cli("user", "follow", "bob", handle).stdout
    assert asked.strip() == f"asked to join @{handle}: waiting for the group to accept"
    await wait_for(lambda: state_is(b, "bob", group_id, "accepted"), what="Accept on B")
    c.cli("user", "follow", "cat", f"@{handle}")
    await wait_for(lambda: state_is(c, "cat", group_id, "accepted"), what="Accept on C")
    assert b.cli("user", "following", "bob").stdout.splitlines() == [f"{handle}\taccepted"]
    assert followers(a, "recovery") == 2

    # Post: B sends the Create, A stores and announces it, B and C keep it under the group.
    post_id = b.cli(
        "user", "post", "bob", handle, "Hello **everyone**", "--summary", "long day"
    ).stdout.strip()
    assert post_id.startswith(f"{b.base_url}/u/bob/posts/")
    served = fetch(post_id)
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("application/activity+json")
    assert served.json()["attributedTo"] == f"{b.base_url}/u/bob"
    await wait_for(lambda: post_id in announced_ids(a, "recovery"), what="A's Announce")
    await wait_for(lambda: _announced(b, group_id, post_id), what="the Announce on B")
    await wait_for(lambda: kept_post(c, group_id, post_id), what="the post on C")
    on_c = await kept_post(c, group_id, post_id)
    assert on_c is not None
    assert on_c["content"] == "<p>Hello <strong>everyone</strong></p>\n"
    assert on_c["summary"] == "long day"

    # Reply from C: threaded on B under the same root.
    reply_id = c.cli(
        "user", "post", "cat", handle, "Sending strength", "--reply-to", post_id
    ).stdout.strip()
    await wait_for(lambda: kept_post(b, group_id, reply_id), what="the reply on B")
    reply = await kept_post(b, group_id, reply_id)
    assert reply is not None
    assert (reply["in_reply_to"], reply["thread_root"]) == (post_id, post_id)

    # The author's edit and deletion reach the other member through the group.
    edited = b.cli("user", "edit-post", "bob", post_id, "Hello *again*", "--summary", "")
    assert edited.stdout.strip() == post_id
    await wait_for(
        lambda: has(c, group_id, post_id, content="<p>Hello <em>again</em></p>\n", summary=""),
        what="the edit on C",
    )
    b.cli("user", "delete-post", "bob", post_id)
    assert fetch(post_id).status_code == 404
    await wait_for(lambda: has(c, group_id, post_id, content=""), what="the deletion on C")
    gone = await kept_post(c, group_id, post_id)
    assert gone is not None and gone["deleted_at"] is not None

    # Unfollow: C leaves, A's group no longer counts it, B stays.
    assert c.cli("user", "unfollow", "cat", handle).stdout.strip() == f"left @{handle}"
    await wait_for(lambda: followers(a, "recovery") == 1, what="C to leave the group")
    assert await subscription_state(c, "cat", group_id) == "left"


async def has(instance: Instance, group_id: str, post_id: str, **columns: object) -> bool:
    post = await kept_post(instance, group_id, post_id)
    return post is not None and all(post[name] == value for name, value in columns.items())


async def _announced(instance: Instance, group_id: str, post_id: str) -> bool:
    post = await kept_post(instance, group_id, post_id)
    return post is not None and post["announced_at"] is not None


async def test_members_only_group_waits_for_approval(abc: list[Instance]) -> None:
    a, b, _ = abc
    a.cli("group", "create", "grief", "--name", "Grief Circle", "--private")
    b.cli("user", "create", "bea", "--password", PASSWORD)
    group_id, handle = f"{a.base_url}/g/grief", f"grief@{a.domain}"

    b.cli("user", "follow", "bea", handle)
    assert await subscription_state(b, "bea", group_id) == "pending"
    refused = b.cli("user", "post", "bea", handle, "too early", check=False)
    assert refused.returncode == 1
    assert "has not accepted" in refused.stderr

    def approve() -> bool:  # the request reaches A asynchronously
        return a.cli("group", "approve", "grief", f"bea@{b.domain}", check=False).returncode == 0

    await wait_for(approve, what="the request to be pending on A and approved")
    await wait_for(lambda: state_is(b, "bea", group_id, "accepted"), what="Accept on B")

    # A members-only post is addressed to the group alone, and only the group can read it.
    post_id = b.cli("user", "post", "bea", handle, "a hard week").stdout.strip()
    assert fetch(post_id).status_code == 404
    # The group republishes it as its own Note to its members, crediting bea.
    await wait_for(lambda: group_note_with(b, group_id, "a hard week"), what="the group's Note")
    [note_id] = await group_note_with(b, group_id, "a hard week")
    assert fetch(str(note_id)).status_code == 404  # not for anonymous readers at A either
    b.cli("user", "edit-post", "bea", post_id, "a hard week, better now")
    await wait_for(lambda: group_note_with(b, group_id, "better now"), what="the group's edit")
    b.cli("user", "delete-post", "bea", post_id)
    await wait_for(lambda: has(b, group_id, str(note_id), content=""), what="the group's deletion")


async def group_note_with(instance: Instance, group_id: str, words: str) -> list[object]:
    """Ids of the Notes the group wrote itself that `instance` keeps, containing `words`."""
    rows = await instance.query(
        "SELECT r.ap_id FROM remote_group_posts r JOIN actors g ON g.id = r.group_actor_id "
        "WHERE g.ap_id = ? AND r.author_id = g.id AND r.content LIKE ?",
        group_id, f"%{words}%",
    )  # fmt: skip
    return [row[0] for row in rows]
