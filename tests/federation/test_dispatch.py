"""THE handler table: each (activity, object) pair we act on, and what falls through."""

from __future__ import annotations

from typing import Any

import pytest

from fedgroups.federation.dispatch import handler_for, receive_announce_moderation
from fedgroups.federation.handlers.actors import receive_update_actor
from fedgroups.federation.handlers.announces import receive_announce, receive_undo_announce
from fedgroups.federation.handlers.follow import receive_follow
from fedgroups.federation.handlers.group_notes import (
    receive_create,
    receive_delete,
    receive_update,
)
from fedgroups.federation.handlers.moderation import (
    receive_collection_change,
    receive_flag,
    receive_lock,
    receive_undo_lock,
)
from fedgroups.federation.handlers.subscriptions import (
    receive_accept_follow,
    receive_block,
    receive_reject_follow,
    receive_undo_block,
)


@pytest.mark.parametrize(
    ("kind", "obj", "handler"),
    [
        ("Follow", "https://g.test/g/x", receive_follow),
        ("Create", {"type": "Note"}, receive_create),
        ("Create", "https://p.test/notes/1", receive_create),
        ("Update", {"type": "Page"}, receive_update),
        ("Update", {"type": "Person"}, receive_update_actor),
        ("Update", {"type": "Group"}, receive_update_actor),
        ("Delete", "https://p.test/users/rosa", receive_delete),
        ("Delete", {"type": "Tombstone"}, receive_delete),
        ("Delete", {"type": "Note"}, receive_delete),
        ("Block", "https://g.test/g/x", receive_block),
        ("Accept", {"type": "Follow"}, receive_accept_follow),
        ("Accept", "https://here.test/u/bob/activities/1", receive_accept_follow),
        ("Reject", {"type": "Follow"}, receive_reject_follow),
        ("Reject", "https://here.test/u/bob/activities/1", receive_reject_follow),
        ("Undo", {"type": "Block"}, receive_undo_block),
        ("Announce", "https://p.test/notes/1", receive_announce),
        ("Announce", {"type": "Note"}, receive_announce),
        ("Announce", {"type": "Create"}, receive_announce),
        ("Announce", {"type": "Update"}, receive_announce),
        ("Announce", {"type": "Delete"}, receive_announce_moderation),  # a group's, or a mod's
        ("Announce", {"type": "Block"}, receive_announce_moderation),
        ("Undo", {"type": "Announce"}, receive_undo_announce),
        ("Lock", "https://p.test/notes/1", receive_lock),
        ("Undo", {"type": "Lock"}, receive_undo_lock),
        ("Add", "https://p.test/users/sam", receive_collection_change),
        ("Remove", "https://p.test/users/sam", receive_collection_change),
        ("Flag", ["https://g.test/g/x", "https://p.test/notes/1"], receive_flag),
        ("Flag", "https://p.test/notes/1", receive_flag),
    ],
)
def test_each_pair_has_its_handler(kind: str, obj: Any, handler: object) -> None:
    assert handler_for({"type": kind, "object": obj}) is handler


@pytest.mark.parametrize(
    ("kind", "obj"),
    [
        ("Create", {"type": "Image"}),
        ("Like", "https://p.test/notes/1"),
        ("Update", {"type": "X"}),
        ("Accept", {"type": "QuoteRequest"}),
        ("Announce", {"type": "Like"}),
    ],
)
def test_unknown_pairs_fall_through(kind: str, obj: Any) -> None:
    assert handler_for({"type": kind, "object": obj}) is None
