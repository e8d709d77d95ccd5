"""A local person's posts to remote groups: who may post, what goes out, edits and deletes."""

from __future__ import annotations

import pytest

from fedgroups.activitypub.parse import parse_post
from fedgroups.activitypub.vocabulary import PUBLIC
from fedgroups.errors import NotFound, ValidationError
from fedgroups.groups.authoring import PostVisibility, delete_post, edit_post, publish_post
from fedgroups.groups.remote_posts import store_announced_post
from fedgroups.models import Actor, ActorKind, Delivery, RemoteGroupPost
from fedgroups.settings import Settings
from tests.factories import make_account, make_membership_elsewhere, make_remote_actor

GROUPS = "https://groups.example"


async def person(settings: Settings, name: str = "bob") -> Actor:
    account = await make_account(settings, name)
    await account.fetch_related("actor")
    return account.actor


async def remote_group(name: str = "recovery", *, locked: bool = False) -> Actor:
    return await make_remote_actor(GROUPS, name, kind=ActorKind.GROUP, locked=locked)


async def sent(kind: str) -> list[dict[str, object]]:
    rows = await Delivery.filter(activity__activity_type=kind).select_related("activity")
    assert all(row.inbox_url == f"{GROUPS}/inbox" for row in rows)
    return [row.activity.payload for row in rows]


async def test_a_member_posts_markdown_addressed_to_the_group(db: None, settings: Settings) -> None:
    bob, group = await person(settings), await remote_group()
    await make_membership_elsewhere(bob, group)
    post = await publish_post(bob, group, "Hello **all** <script>x()</script>", summary="cw")
    assert post.ap_id.startswith(f"{bob.ap_id}/posts/")
    assert post.content == "<p>Hello <strong>all</strong> &lt;script&gt;x()&lt;/script&gt;</p>\n"
    assert (post.source, post.summary, post.is_public) == (
        "Hello **all** <script>x()</script>", "cw", True,
    )  # fmt: skip
    [create] = await sent("Create")
    note = create["object"]
    assert isinstance(note, dict)
    assert (create["actor"], note["attributedTo"], note["content"]) == (
        bob.ap_id, bob.ap_id, post.content,
    )  # fmt: skip
    assert (note["to"], note["cc"]) == ([PUBLIC], [f"{bob.ap_id}/followers", group.ap_id])
    assert post.announced_at is None  # in the group only once the group shares it


async def test_members_only_groups_get_posts_addressed_to_them_alone(
    db: None, settings: Settings
) -> None:
    bob, group = await person(settings), await remote_group("grief", locked=True)
    await make_membership_elsewhere(bob, group)
    post = await publish_post(bob, group, "a hard week")
    assert post.is_public is False
    [create] = await sent("Create")
    assert (create["to"], create["cc"]) == ([group.ap_id], [])
    forced = await publish_post(bob, group, "hello", visibility=PostVisibility.PUBLIC)
    assert forced.is_public is True


@pytest.mark.parametrize(
    ("state", "message"),
    [(None, "follow it first"), ("pending", "not accepted"), ("banned", "banned")],
)
async def test_only_accepted_members_post(
    db: None, settings: Settings, state: str | None, message: str
) -> None:
    bob, group = await person(settings), await remote_group()
    if state is not None:
        await make_membership_elsewhere(bob, group, state)
    with pytest.raises(ValidationError, match=message):
        await publish_post(bob, group, "hi")
    assert await RemoteGroupPost.all().count() == 0
    assert await Delivery.filter(activity__activity_type="Create").count() == 0


async def test_bad_input_is_refused(db: None, settings: Settings) -> None:
    bob, group = await person(settings), await remote_group()
    await make_membership_elsewhere(bob, group)
    with pytest.raises(ValidationError, match="some text"):
        await publish_post(bob, group, "   ")
    with pytest.raises(ValidationError, match="URL of a post"):
        await publish_post(bob, group, "hi", in_reply_to="javascript:alert(1)")
    with pytest.raises(ValidationError, match="at most"):
        await publish_post(bob, group, "x" * 20_001)
    other = await make_remote_actor("https://people.example", "someone")
    with pytest.raises(ValidationError, match="not a group"):
        await publish_post(bob, other, "hi")


async def test_replies_join_the_thread_of_their_parent(db: None, settings: Settings) -> None:
    bob, group = await person(settings), await remote_group()
    await make_membership_elsewhere(bob, group)
    author = await make_remote_actor(GROUPS, "rosa")
    root = {"id": f"{GROUPS}/notes/1", "type": "Note", "attributedTo": author.ap_id}
    await store_announced_post(group, author, parse_post(root), f"{GROUPS}/a/1")
    first = await publish_post(bob, group, "me too", in_reply_to=root["id"])
    second = await publish_post(bob, group, "and again", in_reply_to=first.ap_id)
    assert (first.thread_root, second.thread_root) == (root["id"], root["id"])
    [create, _] = await sent("Create")
    assert create["object"]["inReplyTo"] == root["id"]  # type: ignore[index]


async def test_edit_sends_an_update_and_delete_a_tombstone(db: None, settings: Settings) -> None:
    bob, group = await person(settings), await remote_group()
    await make_membership_elsewhere(bob, group)
    post = await publish_post(bob, group, "first", summary="cw")
    edited = await edit_post(bob, post.ap_id, "*second*")
    assert (edited.content, edited.summary) == ("<p><em>second</em></p>\n", "cw")
    assert edited.updated_at is not None
    [update] = await sent("Update")
    assert update["object"]["content"] == edited.content  # type: ignore[index]
    assert update["object"]["updated"]  # type: ignore[index]
    await edit_post(bob, post, "third", summary="")
    assert (await RemoteGroupPost.get(id=post.id)).summary == ""
    assert len({u["id"] for u in await sent("Update")}) == 2  # every edit its own id

    deleted = await delete_post(bob, post.ap_id)
    assert deleted.deleted_at is not None
    assert (deleted.content, deleted.source) == ("", "")
    [delete] = await sent("Delete")
    assert delete["object"] == {"id": post.ap_id, "type": "Tombstone"}
    with pytest.raises(NotFound):
        await edit_post(bob, post.ap_id, "back")
    with pytest.raises(NotFound):
        await delete_post(bob, post.ap_id)


async def test_only_the_author_edits_or_deletes(db: None, settings: Settings) -> None:
    bob, ann, group = await person(settings), await person(settings, "ann"), await remote_group()
    await make_membership_elsewhere(bob, group)
    post = await publish_post(bob, group, "mine")
    with pytest.raises(NotFound):
        await edit_post(ann, post.ap_id, "hers now")
    with pytest.raises(NotFound):
        await delete_post(ann, post.ap_id)


async def test_a_banned_author_may_still_delete_but_not_edit(db: None, settings: Settings) -> None:
    bob, group = await person(settings), await remote_group()
    await make_membership_elsewhere(bob, group)
    post = await publish_post(bob, group, "before")
    await make_membership_elsewhere(bob, group, "banned")
    with pytest.raises(ValidationError, match="banned"):
        await edit_post(bob, post.ap_id, "after")
    assert (await delete_post(bob, post.ap_id)).deleted_at is not None
