"""Moderation over the real wire: removals, bans, report forwarding and remote moderators.

A group on a real `fedgroups serve` is followed by a Mastodon-like server (boosts of post
ids), a Lemmy-like one (FEP-1b12 wrapped activities) and the author's own server. The admin
acts through the `fedgroups` command, exactly as the README tells them to.
"""

from __future__ import annotations

import pytest

from tests.e2e.circles import Circle, post, wrapped
from tests.e2e.instances import wait_for
from tests.e2e.test_group_flow import note, received_of, send
from tests.peer import RemotePeer

pytestmark = pytest.mark.e2e


def handle(peer: RemotePeer) -> str:
    return f"{peer.name}@{peer.base_url.removeprefix('http://')}"


async def test_a_removal_reaches_each_follower_in_its_form(circle: Circle) -> None:
    created = await post(circle, 1)
    note_id = created["object"]["id"]
    removed = circle.instance.cli("post", "remove", "recovery", note_id, "--reason", "spam")
    assert removed.stdout.strip() == f"removed {note_id} from @recovery@{circle.instance.domain}"
    await wait_for(lambda: received_of(circle.mastodon, "Undo"), what="Undo{Announce}")
    boost = received_of(circle.mastodon, "Announce", note_id)[0]
    assert received_of(circle.mastodon, "Undo")[0]["object"]["id"] == boost["id"]
    await wait_for(lambda: wrapped(circle.lemmy, "Delete"), what="Announce{Delete}")
    removal = wrapped(circle.lemmy, "Delete")[0]
    assert (removal["actor"], removal["object"]) == (circle.group_id, note_id)
    log = circle.instance.cli("group", "log", "recovery").stdout
    assert f"remove_post\t{handle(circle.author)}\t{note_id}\tspam" in log
    # A tombstone here: gone from the group's pages, and its row marks when.
    [(deleted_at,)] = await circle.instance.query(
        "SELECT deleted_at FROM posts WHERE ap_id = ?", note_id
    )
    assert deleted_at is not None


async def test_a_ban_blocks_rejects_and_keeps_the_posts_out(circle: Circle) -> None:
    circle.instance.cli("group", "ban", "recovery", handle(circle.author), "--reason", "threats")
    await wait_for(lambda: received_of(circle.author, "Block"), what="Block")
    await wait_for(lambda: received_of(circle.author, "Reject"), what="Reject")
    assert received_of(circle.author, "Block")[0]["object"] == circle.author.actor_id
    await wait_for(lambda: wrapped(circle.lemmy, "Block"), what="the ban, Lemmy's shape")
    assert wrapped(circle.lemmy, "Block")[0]["target"] == circle.group_id
    created = circle.author.activity("Create", note(circle.author, circle.group_id, 2), 2)
    assert await send(circle.instance, circle.author, "/inbox", created) == 202
    await wait_for(lambda: circle.instance.processed(created["id"]), what="the banned post")
    # The membership ended, and the post was neither stored nor announced to anyone.
    banned = await circle.instance.query(
        "SELECT m.state FROM memberships m JOIN actors a ON a.id = m.actor_id WHERE a.ap_id = ?",
        circle.author.actor_id,
    )
    assert banned == [("banned",)]
    note_id = created["object"]["id"]
    assert await circle.instance.query("SELECT id FROM posts WHERE ap_id = ?", note_id) == []
    announced = await circle.instance.query(
        "SELECT id FROM outbox_activities WHERE object_ap_id = ?", note_id
    )
    assert announced == [] and received_of(circle.mastodon, "Announce", note_id) == []


async def test_a_report_is_filed_and_forwarded_as_a_flag(circle: Circle) -> None:
    created = await post(circle, 1)
    note_id = created["object"]["id"]
    server = circle.mastodon.neighbour("actor", kind="Application")  # Mastodon reports as it
    flag = server.activity("Flag", [circle.author.actor_id, note_id], content="abusive")
    assert await send(circle.instance, server, "/inbox", flag) == 202
    await wait_for(lambda: circle.instance.processed(flag["id"]), what="the Flag")
    listing = circle.instance.cli("report", "list").stdout
    assert f"#1\t@recovery\t{handle(circle.author)}\t{note_id}" in listing
    assert "abusive" in listing
    circle.instance.cli("report", "forward", "1")
    await wait_for(lambda: received_of(circle.author, "Flag"), what="the forwarded Flag")
    forwarded = received_of(circle.author, "Flag")[0]
    assert forwarded["actor"] == f"{circle.instance.base_url}/actor"
    assert forwarded["object"] == [circle.author.actor_id, note_id]
    assert forwarded["content"] == "abusive"


async def test_a_remote_moderators_removal_is_honoured_anyone_elses_ignored(
    circle: Circle,
) -> None:
    circle.instance.cli("group", "moderator", "add", "recovery", handle(circle.lemmy))
    await wait_for(lambda: wrapped(circle.lemmy, "Add"), what="Announce{Add}")
    assert wrapped(circle.lemmy, "Add")[0]["object"] == circle.lemmy.actor_id
    created = await post(circle, 1)
    note_id = created["object"]["id"]
    forged = circle.mastodon.activity("Delete", note_id, 7, summary="not mine to remove")
    assert await send(circle.instance, circle.mastodon, "/inbox", forged) == 202
    await wait_for(lambda: circle.instance.processed(forged["id"]), what="the non-moderator")
    assert await circle.instance.inbox_item_state(forged["id"]) == "ignored"
    assert received_of(circle.mastodon, "Undo") == []
    removal = circle.lemmy.activity("Delete", note_id, 8, summary="off topic")
    removal["cc"] = [circle.group_id]
    assert await send(circle.instance, circle.lemmy, "/g/recovery/inbox", removal) == 202
    await wait_for(lambda: received_of(circle.mastodon, "Undo"), what="Undo{Announce}")
    assert await circle.instance.inbox_item_state(removal["id"]) == "done"
    await wait_for(lambda: wrapped(circle.lemmy, "Delete"), what="the removal, relayed")
    assert wrapped(circle.lemmy, "Delete")[0] == removal  # verbatim (FEP-1b12)
