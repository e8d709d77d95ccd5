"""Boost forms per follower software, and a member's edits and deletions, over the real wire.

Three remote servers follow one group on a real `fedgroups serve`: one says it runs Mastodon
(boosts of the post id, Undo when it goes), one Lemmy (the author's activities wrapped in
Announces, FEP-1b12), and the author's own server, whose software is unknown (both forms).
"""

from __future__ import annotations

import pytest

from tests.e2e.circles import Circle, post, wrapped
from tests.e2e.instances import wait_for
from tests.e2e.test_group_flow import AP, received_of, send

pytestmark = pytest.mark.e2e


async def test_each_follower_gets_the_form_its_software_reads(circle: Circle) -> None:
    created = await post(circle, 1)
    note_id = created["object"]["id"]
    assert wrapped(circle.lemmy, "Create") == [created]  # verbatim, @context and all
    assert received_of(circle.lemmy, "Announce", note_id) == []
    assert wrapped(circle.mastodon, "Create") == []
    boost = received_of(circle.mastodon, "Announce", note_id)[0]
    assert circle.author.actor_id in boost["cc"]  # the author's server learns of the boost
    await wait_for(lambda: wrapped(circle.author, "Create"), what="both forms to the unknown")
    assert received_of(circle.author, "Announce", note_id)


async def test_an_edit_reaches_group_software_and_updates_the_copy(circle: Circle) -> None:
    created = await post(circle, 1)
    edited = {**created["object"], "content": "<p>edited <b>text</b></p>", "updated": "2026-11-21"}
    update = circle.author.activity("Update", edited, 1)
    assert await send(circle.instance, circle.author, "/inbox", update) == 202
    await wait_for(lambda: wrapped(circle.lemmy, "Update"), what="wrapped Update")
    assert wrapped(circle.lemmy, "Update") == [update]
    await wait_for(lambda: circle.instance.processed(update["id"]), what="the Update")
    assert wrapped(circle.mastodon, "Update") == []  # Mastodon drops Announce{Update}


async def test_an_edit_by_someone_else_changes_nothing(circle: Circle) -> None:
    created = await post(circle, 1)
    forged = {**created["object"], "content": "<p>not yours</p>"}
    update = circle.mastodon.activity("Update", forged, 9)
    assert await send(circle.instance, circle.mastodon, "/inbox", update) == 202
    await wait_for(lambda: circle.instance.processed(update["id"]), what="the forged Update")
    assert await circle.instance.inbox_item_state(update["id"]) == "failed"
    assert wrapped(circle.lemmy, "Update") == []


async def test_a_deletion_undoes_the_boosts_and_reaches_group_software(circle: Circle) -> None:
    created = await post(circle, 1)
    note_id = created["object"]["id"]
    tombstone = {"id": note_id, "type": "Tombstone"}
    delete = circle.author.activity("Delete", tombstone, 1)
    assert await send(circle.instance, circle.author, "/inbox", delete) == 202
    await wait_for(lambda: received_of(circle.mastodon, "Undo"), what="Undo{Announce}")
    boost = received_of(circle.mastodon, "Announce", note_id)[0]
    undo = received_of(circle.mastodon, "Undo")[0]
    assert undo["actor"] == circle.group_id
    assert undo["object"]["id"] == boost["id"]
    await wait_for(lambda: wrapped(circle.lemmy, "Delete"), what="wrapped Delete")
    assert wrapped(circle.lemmy, "Delete") == [delete]
    outbox = circle.instance.get("/g/recovery/outbox?page=1", headers=AP).text
    # Nothing about a deleted post stays listed: a wrapped Create would still hold its words.
    assert note_id not in outbox
    assert created["object"]["content"] not in outbox


async def test_a_deleted_account_takes_its_posts_with_it(circle: Circle) -> None:
    first = await post(circle, 1)
    await post(circle, 2)
    gone = circle.author.activity("Delete", circle.author.actor_id, 99)
    assert await send(circle.instance, circle.author, "/inbox", gone) == 202
    await wait_for(lambda: len(received_of(circle.mastodon, "Undo")) == 2, what="two Undos")
    await wait_for(lambda: len(wrapped(circle.lemmy, "Delete")) == 2, what="two removals")
    removal = wrapped(circle.lemmy, "Delete")[0]
    assert removal["actor"] == circle.group_id  # the group removes its copy (Lemmy "remove")
    assert {r["object"] for r in wrapped(circle.lemmy, "Delete")} == {
        first["object"]["id"],
        first["object"]["id"].replace("/notes/1", "/notes/2"),
    }
    followers = circle.instance.get("/g/recovery/followers", headers=AP).json()
    assert followers["totalItems"] == 2
