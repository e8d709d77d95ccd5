"""Parsing what Accept, Reject, Announce and Undo point at: shapes peers send, and refusals."""

from __future__ import annotations

import pytest

from fedgroups.activitypub.references import (
    Announced,
    FollowReference,
    Undone,
    parse_announce,
    parse_follow_answer,
    parse_undo,
)
from fedgroups.activitypub.webfinger import Handle, actor_link, parse_handle
from fedgroups.errors import MalformedActivity, ValidationError

G = "https://groups.example/g/recovery"
BOB = "https://here.test/u/bob"
NOTE = "https://peer.test/notes/1"


def announce(obj: object) -> dict[str, object]:
    return {"id": f"{G}/activities/1", "type": "Announce", "actor": G, "object": obj}


def test_follow_answers_embedded_or_by_id() -> None:
    follow = {"id": f"{BOB}/activities/f", "type": "Follow", "actor": BOB, "object": G}
    assert parse_follow_answer({"object": follow}) == FollowReference(follow["id"], BOB, G)
    no_id = {"type": "Follow", "actor": {"id": BOB}, "object": G}
    assert parse_follow_answer({"object": no_id}) == FollowReference("", BOB, G)
    assert parse_follow_answer({"object": follow["id"]}) == FollowReference(follow["id"], "", "")


@pytest.mark.parametrize(
    "obj",
    [None, {"type": "Like", "actor": BOB, "object": G}, {"type": "Follow", "actor": 5}, "mailto:x"],
)
def test_follow_answers_that_name_no_follow_are_refused(obj: object) -> None:
    with pytest.raises(MalformedActivity):
        parse_follow_answer({"object": obj})


def test_announce_shapes() -> None:
    note = {"id": NOTE, "type": "Note", "attributedTo": "https://peer.test/u/a"}
    aid = f"{G}/activities/1"
    assert parse_announce(announce(NOTE)) == Announced(aid, "", NOTE, None)
    assert parse_announce(announce(note)) == Announced(aid, "", NOTE, note)
    create = {"id": f"{NOTE}/activity", "type": "Create", "object": note}
    assert parse_announce(announce(create)) == Announced(aid, "Create", NOTE, note)
    update = {"id": f"{NOTE}#u", "type": "Update", "object": NOTE}
    assert parse_announce(announce(update)) == Announced(aid, "Update", NOTE, None)
    tombstone = {"id": NOTE, "type": "Tombstone"}
    delete = {"id": f"{NOTE}#d", "type": "Delete", "object": tombstone}
    assert parse_announce(announce(delete)) == Announced(aid, "Delete", NOTE, tombstone)


@pytest.mark.parametrize(
    "obj",
    [
        None,
        {"type": "Announce", "object": {"type": "Create", "object": NOTE}},  # nesting (T11)
        {"type": "Create", "object": {"type": "Create", "object": NOTE}},
        {"type": "Like", "object": NOTE},
        {"type": "Update", "object": {"id": NOTE, "type": "Tombstone"}},
        {"id": "javascript:x", "type": "Note"},
        "x" * 600,
    ],
)
def test_announces_we_cannot_take(obj: object) -> None:
    with pytest.raises(MalformedActivity):
        parse_announce(announce(obj))


def test_undo_must_embed_what_it_undoes() -> None:
    block = {"id": f"{G}/activities/b", "type": "Block", "actor": G, "object": BOB}
    assert parse_undo({"object": block}) == Undone("Block", block["id"], BOB)
    assert parse_undo({"object": {"type": "Announce"}}) == Undone("Announce", "", "")
    with pytest.raises(MalformedActivity):
        parse_undo({"object": block["id"]})


@pytest.mark.parametrize(
    ("text", "handle"),
    [
        ("@recovery@Groups.Example", Handle("recovery", "groups.example")),
        ("recovery@groups.example:8443", Handle("recovery", "groups.example:8443")),
        (" acct:recovery@groups.example ", Handle("recovery", "groups.example")),
    ],
)
def test_handles(text: str, handle: Handle) -> None:
    assert parse_handle(text) == handle


@pytest.mark.parametrize("text", ["recovery", "@groups.example", "a@", "a b@c", "https://x/y@z"])
def test_not_handles(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_handle(text)


def test_actor_link_takes_the_first_activitypub_self_link() -> None:
    ld = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
    links = [
        {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": "h"},
        {"rel": "self", "type": "text/html", "href": "https://x.test/page"},
        {"rel": "self", "type": ld, "href": G},
        {"rel": "self", "type": "application/activity+json", "href": "https://x.test/2"},
    ]
    assert actor_link({"links": links}) == G
    with pytest.raises(MalformedActivity):
        actor_link({"links": links[:2]})
    with pytest.raises(MalformedActivity):
        actor_link({"links": [{"rel": "self", "type": ld, "href": "ftp://x"}]})
