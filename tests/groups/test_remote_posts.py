"""Posts kept from remote groups, and who may read them here (groups/visibility.py)."""

from __future__ import annotations

from fedgroups.activitypub.parse import parse_post
from fedgroups.groups import visibility
from fedgroups.groups.authoring import PostVisibility, publish_post
from fedgroups.groups.remote_posts import (
    apply_post_update,
    delete_post_copies,
    holds_post,
    mark_announced,
    store_announced_post,
    withdraw_announce,
)
from fedgroups.models import Actor, ActorKind, RemoteGroupPost
from fedgroups.settings import Settings
from tests.factories import make_account, make_membership_elsewhere, make_remote_actor

GROUPS = "https://groups.example"
PEER = "https://peer.test"


async def person(settings: Settings, name: str) -> Actor:
    account = await make_account(settings, name)
    await account.fetch_related("actor")
    return account.actor


def note(number: int, **extra: object) -> dict[str, object]:
    return {
        "id": f"{PEER}/notes/{number}",
        "type": "Note",
        "attributedTo": f"{PEER}/users/rosa",
        "content": "<p>hi<script>x()</script></p>",
        "summary": "<b>cw</b>",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "published": "2026-09-01T10:00:00Z",
        **extra,
    }


async def test_announced_posts_are_kept_clean_once(db: None) -> None:
    group = await make_remote_actor(GROUPS, "recovery", kind=ActorKind.GROUP)
    rosa = await make_remote_actor(PEER, "rosa")
    kept = await store_announced_post(group, rosa, parse_post(note(1)), f"{GROUPS}/a/1")
    assert kept is not None
    assert (kept.content, kept.summary) == ("<p>hi</p>", "cw")
    assert kept.published_at.isoformat() == "2026-09-01T10:00:00+00:00"
    again = await store_announced_post(group, rosa, parse_post(note(1)), f"{GROUPS}/a/1")
    assert again is not None and again.id == kept.id
    reply = await store_announced_post(
        group, rosa, parse_post(note(2, inReplyTo=note(1)["id"])), f"{GROUPS}/a/2"
    )
    assert reply is not None and reply.thread_root == note(1)["id"]
    assert await RemoteGroupPost.all().count() == 2


async def test_updates_deletes_and_withdrawals(db: None) -> None:
    group = await make_remote_actor(GROUPS, "recovery", kind=ActorKind.GROUP)
    rosa = await make_remote_actor(PEER, "rosa")
    await store_announced_post(group, rosa, parse_post(note(1)), f"{GROUPS}/a/1")
    forged = parse_post(note(1, content="<p>forged</p>", attributedTo=f"{PEER}/users/mal"))
    assert await apply_post_update(forged) == 0  # never another author's words (T12)
    assert await apply_post_update(parse_post(note(1, content="<p>edited</p>"))) == 1
    kept = await RemoteGroupPost.get()
    assert kept.content == "<p>edited</p>" and kept.updated_at is not None
    assert await withdraw_announce(group, f"{GROUPS}/a/other") == 0
    assert await withdraw_announce(group, f"{GROUPS}/a/1") == 1
    assert await holds_post(note(1)["id"])  # type: ignore[arg-type]
    assert await delete_post_copies(str(note(1)["id"])) == 1
    deleted = await RemoteGroupPost.get()
    assert (deleted.content, deleted.deleted_at is not None) == ("", True)
    assert not await holds_post(str(note(1)["id"]))
    assert await store_announced_post(group, rosa, parse_post(note(1)), f"{GROUPS}/a/3") is None


async def test_a_local_post_is_in_the_group_once_the_group_shares_it(
    db: None, settings: Settings
) -> None:
    bob = await person(settings, "bob")
    group = await make_remote_actor(GROUPS, "recovery", kind=ActorKind.GROUP)
    other = await make_remote_actor(GROUPS, "other", kind=ActorKind.GROUP)
    await make_membership_elsewhere(bob, group)
    post = await publish_post(bob, group, "hello")
    assert await mark_announced(other, post.ap_id, f"{GROUPS}/a/9") is None
    carried = await mark_announced(group, post.ap_id, f"{GROUPS}/a/1")
    assert carried is not None and carried.announced_at is not None


async def test_who_reads_what_is_kept_from_an_open_group(db: None, settings: Settings) -> None:
    bob, ann = await person(settings, "bob"), await person(settings, "ann")
    group = await make_remote_actor(GROUPS, "recovery", kind=ActorKind.GROUP)
    rosa = await make_remote_actor(PEER, "rosa")
    await make_membership_elsewhere(bob, group)
    public = parse_post(note(1))
    followers_only = parse_post(note(2, to=[f"{GROUPS}/users/recovery/followers"]))
    await store_announced_post(group, rosa, public, f"{GROUPS}/a/1")
    await store_announced_post(group, rosa, followers_only, f"{GROUPS}/a/2")
    own = await publish_post(bob, group, "not shared yet")

    async def readable(viewer: Actor | None) -> set[str]:
        query = await visibility.readable_remote_posts(group, viewer)
        return set(await query.values_list("ap_id", flat=True))

    assert await readable(bob) == {public.ap_id, followers_only.ap_id, own.ap_id}
    assert await readable(ann) == {public.ap_id}
    assert await readable(None) == {public.ap_id}
    await withdraw_announce(group, f"{GROUPS}/a/1")
    assert await readable(None) == set()


async def test_nothing_of_a_members_only_group_for_non_members(
    db: None, settings: Settings
) -> None:
    bob, ann = await person(settings, "bob"), await person(settings, "ann")
    group = await make_remote_actor(GROUPS, "grief", kind=ActorKind.GROUP, locked=True)
    rosa = await make_remote_actor(PEER, "rosa")
    await make_membership_elsewhere(bob, group)
    await store_announced_post(group, rosa, parse_post(note(1)), f"{GROUPS}/a/1")
    assert await (await visibility.readable_remote_posts(group, ann)).count() == 0
    assert await (await visibility.readable_remote_posts(group, None)).count() == 0
    assert await (await visibility.readable_remote_posts(group, bob)).count() == 1


async def test_who_may_fetch_a_persons_post(db: None, settings: Settings) -> None:
    bob, ann = await person(settings, "bob"), await person(settings, "ann")
    group = await make_remote_actor(GROUPS, "grief", kind=ActorKind.GROUP, locked=True)
    neighbour = await make_remote_actor(GROUPS, "instance")  # the group's own server
    stranger = await make_remote_actor(PEER, "rosa")
    await make_membership_elsewhere(bob, group)
    post = await publish_post(bob, group, "a hard week")
    await post.fetch_related("group_actor")
    for viewer, allowed in ((None, False), (ann, False), (stranger, False), (bob, True),
                            (group, True), (neighbour, True)):  # fmt: skip
        assert await visibility.can_read_person_post(post, viewer) is allowed
    public = await publish_post(bob, group, "hello all", visibility=PostVisibility.PUBLIC)
    await public.fetch_related("group_actor")
    assert await visibility.can_read_person_post(public, None) is True
    public.deleted_at = public.published_at
    assert await visibility.can_read_person_post(public, bob) is False
