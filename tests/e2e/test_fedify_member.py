"""Groups on a real `fedgroups serve` process, joined and used by members on Fedify servers.

The members live on `conformance/peers/fedify/peer.mjs`, an independent ActivityPub server
built on Fedify 1.5 that behaves toward groups as Mastodon does: WebFinger discovery, Follow to
the group's inbox, statuses mentioning the group with Mastodon's addressing, edits, deletes
and Undo Follow. Everything is asserted on the wire, on what Fedify verified on arrival.

One instance and three peer servers serve the whole module (per database backend), since
starting them is most of the cost; each test uses its own group and its own persons.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from conformance.peers.fedify_peer import FedifyPeer, Person, missing
from tests.conftest import BACKENDS, _truncate_all
from tests.e2e.instances import Instance, start_instance, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.interop]
AP = {"Accept": "application/activity+json"}
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
_numbers = itertools.count(1)


@dataclass
class World:
    """The instance under test, two Fedify servers its members live on, and one to block."""

    instance: Instance
    home: FedifyPeer
    elsewhere: FedifyPeer
    blocked: FedifyPeer  # only the domain-block test uses it: a block outlives its test


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """One instance and its peers per backend; skipped only when node or Fedify is missing."""
    reason = missing()
    if reason is not None:
        pytest.skip(reason)
    database_url = None
    if request.param == "postgres":
        database_url = request.getfixturevalue("postgres_database")
        asyncio.run(_truncate_all(database_url))
    log_dir = tmp_path_factory.mktemp("fedify")
    peers = [FedifyPeer.launch(log_dir) for _ in range(3)]  # they boot while the instance does
    try:
        instance = start_instance(log_dir / "instance", database_url)
        try:
            for peer in peers:
                peer.wait_until_ready()
            yield World(instance, *peers)
        finally:
            instance.stop()
    finally:
        for peer in peers:
            peer.stop()


@dataclass
class Case:
    """One test's own group and names on the shared world."""

    world: World
    slug: str
    suffix: str

    @property
    def instance(self) -> Instance:
        return self.world.instance

    @property
    def handle(self) -> str:
        return f"@{self.slug}@{self.instance.domain}"

    @property
    def group_id(self) -> str:
        return f"{self.instance.base_url}/g/{self.slug}"

    def person(self, peer: FedifyPeer, name: str) -> Person:
        return peer.create_person(f"{name}_{self.suffix}")


def new_case(world: World, *flags: str) -> Case:
    number = next(_numbers)
    case = Case(world=world, slug=f"circle-{number}", suffix=str(number))
    world.instance.cli("group", "create", case.slug, "--name", f"Circle {number}", *flags)
    return case


def assert_all_verified(peer: FedifyPeer) -> None:
    """Fedify accepted every delivery it got: our signatures and payloads pass its checks."""
    refused = [delivery for delivery in peer.deliveries() if delivery["status"] >= 300]
    assert refused == [], f"Fedify refused deliveries:\n{peer.log()}"


async def join(peer: FedifyPeer, person: Person, handle: str) -> str:
    """Follow the group and wait for its Accept; returns the Follow's id."""
    follow_id = peer.follow(person, handle)
    await wait_for(lambda: peer.received("Accept", follow_id), what=f"Accept of {person.name}")
    assert_all_verified(peer)
    return follow_id


async def announced(peer: FedifyPeer, note_id: str) -> list[dict[str, Any]]:
    await wait_for(lambda: peer.announces_of(note_id), what=f"Announce of {note_id}")
    assert_all_verified(peer)
    return peer.announces_of(note_id)


async def processed(instance: Instance, activity_id: str) -> None:
    await wait_for(lambda: instance.processed(activity_id), what=f"{activity_id} processed")


def create_id(status: dict[str, Any]) -> str:
    return str(status["activity"]["id"])


async def scalar(instance: Instance, sql: str, *params: object) -> object:
    """The first column of the first row, or None."""
    rows = await instance.query(sql, *params)
    return rows[0][0] if rows else None


MEMBERSHIP = "SELECT state FROM memberships WHERE follow_ap_id = ?"


async def test_discover_follow_and_accept(world: World) -> None:
    case = new_case(world)
    ann = case.person(world.home, "ann")

    actor = world.home.lookup(case.handle)  # Fedify's WebFinger client, then the actor
    assert actor["id"] == case.group_id
    assert actor["type"] == "Group"
    assert actor["preferredUsername"] == case.slug
    assert actor["inbox"] == f"{case.group_id}/inbox"
    assert actor["followers"] == f"{case.group_id}/followers"

    follow_id = await join(world.home, ann, case.handle)
    accept = world.home.received("Accept", follow_id)[0]
    assert accept["actor"] == case.group_id
    assert accept["object"]["type"] == "Follow"
    assert accept["object"]["actor"] == ann.id
    assert accept["object"]["object"] == case.group_id

    followers = case.instance.get(f"/g/{case.slug}/followers?page=1", headers=AP).json()
    assert followers["orderedItems"] == [ann.id]
    assert await scalar(case.instance, MEMBERSHIP, follow_id) == "approved"


async def test_member_post_and_reply_are_announced_to_members_elsewhere(world: World) -> None:
    case = new_case(world)
    home, elsewhere = world.home, world.elsewhere
    ann, bea = case.person(home, "ann"), case.person(elsewhere, "bea")
    await join(home, ann, case.handle)
    await join(elsewhere, bea, case.handle)

    status = home.post(ann, "first time here", mention=case.handle)
    note_id = status["id"]
    announces = await announced(elsewhere, note_id)
    assert {announce["actor"] for announce in announces} == {case.group_id}
    by_id = [announce for announce in announces if announce["object"] == note_id]
    assert by_id, "the Mastodon-style Announce of the note's id"
    assert PUBLIC in by_id[0]["to"]
    await announced(home, note_id)  # the author's own server sees the boost too
    content = "SELECT content FROM posts WHERE ap_id = ?"
    assert "first time here" in str(await scalar(case.instance, content, note_id))

    reply = elsewhere.post(bea, "welcome!", mention=case.handle, in_reply_to=note_id)
    await announced(home, reply["id"])
    root = "SELECT thread_root FROM posts WHERE ap_id = ?"
    assert await scalar(case.instance, root, reply["id"]) == note_id


async def test_non_member_posts_and_poll_votes_are_not_announced(world: World) -> None:
    case = new_case(world)
    home, elsewhere = world.home, world.elsewhere
    ann, bea = case.person(home, "ann"), case.person(elsewhere, "bea")
    stranger = case.person(elsewhere, "cy")
    await join(home, ann, case.handle)
    await join(elsewhere, bea, case.handle)

    outsider = elsewhere.post(stranger, "buy my course", mention=case.handle)
    await processed(case.instance, create_id(outsider))

    poll = home.post(ann, "how was your week?", mention=case.handle, poll=["good", "hard"])
    await announced(elsewhere, poll["id"])
    # Mastodon addresses a vote to the poll's author only; this one reaches the group too.
    vote = elsewhere.vote(bea, poll["id"], "hard", deliver_to=(case.handle,))
    await processed(case.instance, create_id(vote))

    sentinel = home.post(ann, "still here", mention=case.handle)
    await announced(elsewhere, sentinel["id"])
    for peer in (home, elsewhere):
        assert peer.announces_of(outsider["id"]) == []
        assert peer.announces_of(vote["id"]) == []
    stored = "SELECT COUNT(*) FROM posts WHERE ap_id IN (?, ?)"
    assert await scalar(case.instance, stored, outsider["id"], vote["id"]) == 0


async def test_unfollow_stops_announces(world: World) -> None:
    case = new_case(world)
    home, elsewhere = world.home, world.elsewhere
    ann, bea = case.person(home, "ann"), case.person(elsewhere, "bea")
    await join(home, ann, case.handle)
    follow_id = await join(elsewhere, bea, case.handle)

    undo_id = elsewhere.unfollow(bea, case.handle)
    await processed(case.instance, undo_id)
    assert await scalar(case.instance, MEMBERSHIP, follow_id) == "left"

    status = home.post(ann, "after bea left", mention=case.handle)
    await announced(home, status["id"])
    assert elsewhere.received("Announce", actor=case.group_id) == []


async def test_members_only_group_waits_for_approval(world: World) -> None:
    case = new_case(world, "--private")
    home, elsewhere = world.home, world.elsewhere
    ann, bea = case.person(home, "ann"), case.person(elsewhere, "bea")

    asked = home.follow(ann, case.handle)
    refused = elsewhere.follow(bea, case.handle)
    await processed(case.instance, asked)
    await processed(case.instance, refused)
    assert home.received("Accept", asked) == []
    assert await scalar(case.instance, MEMBERSHIP, asked) == "pending"

    case.instance.cli("group", "approve", case.slug, ann.handle)
    await wait_for(lambda: home.received("Accept", asked), what="Accept after approval")
    accept = home.received("Accept", asked)[0]
    assert accept["actor"] == case.group_id
    assert accept["object"]["actor"] == ann.id

    case.instance.cli("group", "reject", case.slug, bea.handle)
    await wait_for(lambda: elsewhere.received("Reject", refused), what="Reject")
    assert elsewhere.received("Reject", refused)[0]["object"]["actor"] == bea.id
    assert elsewhere.received("Accept", refused) == []
    assert await scalar(case.instance, MEMBERSHIP, refused) == "rejected"

    # A member posts with Mastodon's "mentioned people only": the group republishes the words
    # as its own Note to its followers alone, and boosts nothing.
    status = home.post(ann, "a hard week", mention=case.handle, visibility="direct")

    def republished() -> list[dict[str, Any]]:
        return home.received("Create", actor=case.group_id)

    await wait_for(republished, what="the group's own Note")
    note = republished()[0]["object"]
    assert note["attributedTo"] == case.group_id
    assert "a hard week" in note["content"]
    audience = set(note.get("to", [])) | set(note.get("cc", []))
    assert f"{case.group_id}/followers" in audience
    assert PUBLIC not in audience
    assert home.announces_of(status["id"]) == []
    assert [a["type"] for a in elsewhere.received(actor=case.group_id)] == ["Reject"]
    assert_all_verified(home)


async def test_blocked_domain_is_dropped_and_gets_nothing(world: World) -> None:
    case = new_case(world)
    home, blocked = world.home, world.blocked
    ann, bea = case.person(home, "ann"), case.person(blocked, "bea")
    await join(home, ann, case.handle)
    await join(blocked, bea, case.handle)
    delivered_before = len(blocked.deliveries())

    case.instance.cli("domain", "block", blocked.domain)
    refollow = blocked.follow(bea, case.handle)
    dropped = blocked.post(bea, "from a blocked server", mention=case.handle)
    status = home.post(ann, "after the block", mention=case.handle)
    await announced(home, status["id"])

    assert len(blocked.deliveries()) == delivered_before
    assert await case.instance.inbox_item_state(refollow) is None  # dropped unstored
    assert await case.instance.inbox_item_state(create_id(dropped)) is None
    assert home.announces_of(dropped["id"]) == []


def wrapped(peer: FedifyPeer, group_id: str, kind: str) -> list[dict[str, Any]]:
    """Activities of `kind` the group relayed embedded in an Announce (FEP-1b12 form)."""
    return [
        boost["object"]
        for boost in peer.received("Announce", actor=group_id)
        if isinstance(boost["object"], dict) and boost["object"].get("type") == kind
    ]


async def test_an_edit_updates_the_copy_and_reaches_members(world: World) -> None:
    case = new_case(world)
    home, elsewhere = world.home, world.elsewhere
    ann, bea = case.person(home, "ann"), case.person(elsewhere, "bea")
    await join(home, ann, case.handle)
    await join(elsewhere, bea, case.handle)
    note_id = home.post(ann, "first draft", mention=case.handle)["id"]
    await announced(elsewhere, note_id)

    update = home.edit(ann, note_id, "second thoughts")
    await processed(case.instance, update["id"])
    stored = "SELECT content FROM posts WHERE ap_id = ? AND updated_at IS NOT NULL"
    assert "second thoughts" in str(await scalar(case.instance, stored, note_id))

    # fedify-peer is software the group does not know: it gets the FEP-1b12 relay too.
    await wait_for(lambda: wrapped(elsewhere, case.group_id, "Update"), what="Announce{Update}")
    relayed = wrapped(elsewhere, case.group_id, "Update")[0]
    assert relayed["id"] == update["id"]
    assert "second thoughts" in relayed["object"]["content"]
    assert_all_verified(elsewhere)


async def test_a_deletion_tombstones_the_copy_and_withdraws_the_boosts(world: World) -> None:
    case = new_case(world)
    home, elsewhere = world.home, world.elsewhere
    ann, bea = case.person(home, "ann"), case.person(elsewhere, "bea")
    await join(home, ann, case.handle)
    await join(elsewhere, bea, case.handle)
    note_id = home.post(ann, "too much, too soon", mention=case.handle)["id"]
    # Software the group does not know gets both boost forms, and so both are undone.
    await wait_for(lambda: len(elsewhere.announces_of(note_id)) == 2, what="both boost forms")
    boosts = {boost["id"] for boost in elsewhere.announces_of(note_id)}

    delete = home.delete(ann, note_id)
    await processed(case.instance, delete["id"])
    gone = "SELECT content FROM posts WHERE ap_id = ? AND deleted_at IS NOT NULL"
    assert await scalar(case.instance, gone, note_id) == ""

    def undone() -> set[str]:
        undos = elsewhere.received("Undo", actor=case.group_id)
        return {undo["object"]["id"] for undo in undos if undo["object"]["type"] == "Announce"}

    await wait_for(lambda: undone() == boosts, what="Undo of every boost")
    await wait_for(lambda: wrapped(elsewhere, case.group_id, "Delete"), what="Announce{Delete}")
    assert wrapped(elsewhere, case.group_id, "Delete")[0]["id"] == delete["id"]
    assert_all_verified(elsewhere)
