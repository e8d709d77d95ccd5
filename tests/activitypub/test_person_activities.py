"""A person's Follow, Undo and notes as they go on the wire, addressed the way Mastodon does."""

from __future__ import annotations

from datetime import UTC, datetime

from fedgroups.activitypub.activities import render_undo
from fedgroups.activitypub.person_activities import (
    NoteFields,
    render_create,
    render_delete,
    render_follow,
    render_note,
    render_update,
)
from fedgroups.activitypub.vocabulary import PUBLIC

BOB = "https://here.test/u/bob"
G = "https://groups.example/g/recovery"
WHEN = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)


def note(**changes: object) -> NoteFields:
    fields: dict[str, object] = {
        "ap_id": f"{BOB}/posts/abc",
        "author_id": BOB,
        "author_followers": f"{BOB}/followers",
        "group_id": G,
        "group_handle": "recovery@groups.example",
        "content_html": "<p>hi</p>",
        "source": "hi",
        "summary": "",
        "in_reply_to": "",
        "is_public": True,
        "published": WHEN,
        **changes,
    }
    return NoteFields(**fields)  # type: ignore[arg-type]


def test_follow_and_its_undo() -> None:
    follow = render_follow(f"{BOB}/activities/1", BOB, G)
    assert follow == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{BOB}/activities/1",
        "type": "Follow",
        "actor": BOB,
        "object": G,
    }
    undo = render_undo(BOB, f"{BOB}/activities/2", follow)
    assert undo["object"] == {key: follow[key] for key in ("id", "type", "actor", "object")}
    assert undo["actor"] == BOB


def test_public_note_mentions_the_group_and_addresses_it_like_mastodon() -> None:
    document = render_note(note(summary="cw", in_reply_to="https://x.test/p/1"))
    assert document["to"] == [PUBLIC]
    assert document["cc"] == [f"{BOB}/followers", G]
    assert document["tag"] == [{"type": "Mention", "href": G, "name": "@recovery@groups.example"}]
    assert (document["summary"], document["sensitive"]) == ("cw", True)
    assert document["inReplyTo"] == "https://x.test/p/1"
    assert document["published"] == "2026-09-01T10:00:00Z"
    assert "updated" not in document
    assert document["source"] == {"content": "hi", "mediaType": "text/markdown"}


def test_members_only_note_goes_to_the_group_alone() -> None:
    document = render_note(note(is_public=False))
    assert (document["to"], document["cc"]) == ([G], [])
    assert (document["summary"], document["sensitive"], document["inReplyTo"]) == (
        None,
        False,
        None,
    )


def test_create_update_delete_wrap_the_note() -> None:
    create = render_create(note())
    assert create["id"] == f"{BOB}/posts/abc/activity"
    assert create["object"]["id"] == f"{BOB}/posts/abc"
    assert "@context" not in create["object"]
    assert create["to"] == create["object"]["to"]
    edited = note(updated=datetime(2026, 9, 2, tzinfo=UTC), content_html="<p>new</p>")
    update = render_update(f"{BOB}/posts/abc#updates/1", edited)
    assert update["type"] == "Update"
    assert update["object"]["updated"] == "2026-09-02T00:00:00Z"
    assert update["object"]["content"] == "<p>new</p>"
    delete = render_delete(note(is_public=False))
    assert delete["object"] == {"id": f"{BOB}/posts/abc", "type": "Tombstone"}
    assert delete["to"] == [G]
