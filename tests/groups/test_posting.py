"""Members' posts: stored sanitised and announced; votes, strangers and replays are not."""

from __future__ import annotations

from fedgroups.activitypub.parse import parse_post
from fedgroups.groups.membership import request_membership
from fedgroups.groups.posting import receive_post
from fedgroups.models import Delivery, Post
from fedgroups.settings import Settings
from tests.factories import make_group
from tests.groups.test_membership import remote_actor

GROUP = "https://groups.test/g/recovery"


def note(number: int, **extra: object) -> dict[str, object]:
    return {
        "id": f"https://peer.test/notes/{number}",
        "type": "Note",
        "attributedTo": "https://peer.test/users/rosa",
        "content": "<p>hi<script>x()</script></p>",
        "to": ["https://www.w3.org/ns/activitystreams#Public", GROUP],
        **extra,
    }


async def test_member_post_is_stored_clean_and_announced(db: None, settings: Settings) -> None:
    group = await make_group(settings, "recovery")
    rosa = await remote_actor("peer.test")
    await request_membership(group, rosa, "https://peer.test/follows/1")
    stored = await receive_post(group, rosa, parse_post(note(1)))
    assert stored is not None
    assert "<script" not in stored.content
    announces = await Delivery.filter(activity__activity_type="Announce").prefetch_related(
        "activity"
    )
    assert [d.activity.payload["object"] for d in announces] == ["https://peer.test/notes/1"]
    assert await receive_post(group, rosa, parse_post(note(1))) is None  # replay (T15)


async def test_poll_votes_and_strangers_are_not_redistributed(db: None, settings: Settings) -> None:
    group = await make_group(settings, "recovery")
    rosa = await remote_actor("peer.test")
    sam = await remote_actor("other.test", "sam")
    await request_membership(group, rosa, "https://peer.test/follows/1")
    vote = note(2, content=None, name="Yes", inReplyTo="https://x.test/polls/1")
    assert await receive_post(group, rosa, parse_post(vote)) is None
    stranger = {**note(3), "attributedTo": sam.ap_id, "id": "https://other.test/notes/3"}
    assert await receive_post(group, sam, parse_post(stranger)) is None
    assert await Post.all().count() == 0
    assert await Delivery.filter(activity__activity_type="Announce").count() == 0
