"""Serving what groups publish, and the signed-GET rule of members-only groups (T54, T56, T57).

Every request is really signed (draft-cavage or RFC 9421) by actors whose keys this instance
has cached, exactly as after a first fetch. Denied readers must get the very bytes and headers
of an id that never existed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from fedgroups.activitypub.keys import generate_key_pair, load_private_key
from fedgroups.activitypub.parse import parse_actor
from fedgroups.app import create_app
from fedgroups.db import bind_context
from fedgroups.federation.signatures import sign_cavage
from fedgroups.groups.announcing import announce
from fedgroups.groups.domains import block_domain
from fedgroups.groups.membership import (
    ban_member,
    decide_membership,
    request_membership,
    unban_member,
)
from fedgroups.models import Actor, Group, Membership, MembershipState, OutboxActivity, Post
from fedgroups.settings import Settings
from tests.conftest import make_settings
from tests.factories import make_group
from tests.peer import RemotePeer, serve_peer

BASE = "https://groups.test"
AP = {"Accept": "application/activity+json"}
CANARY = "canary-7f3a9c"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@pytest.fixture(scope="module")
def rosa() -> RemotePeer:
    """A member on peer.test, with another account (sam) and the server's instance actor."""
    peer = RemotePeer(base_url="https://peer.test", name="rosa")
    peer.neighbour("sam")
    peer.neighbour("peer.test", kind="Application")
    return peer


@pytest.fixture(scope="module")
def mal() -> RemotePeer:
    return RemotePeer(base_url="https://evil.test", name="mal")


@pytest.fixture(scope="module")
def forger_key() -> str:
    return generate_key_pair()[0]


async def cache(app: Starlette, peer: RemotePeer) -> Actor:
    """Store a remote actor the way the first signed request from it would."""
    return await app.state.federation.remote_actors.store_actor(parse_actor(peer.actor_document()))


async def group_note(group: Group, token: str, **fields: object) -> Post:
    """A Note the group published as its own (a members-only group republishes posts so)."""
    author = await Actor.filter(is_local=False).first() or group.actor
    values: dict[str, object] = {
        "ap_id": f"{group.actor.ap_id}/posts/{token}",
        "group": group,
        "author": author,
        "publisher": group.actor,
        "content": f"<p>I relapsed last night {CANARY}</p>",
        "summary": "relapse",
        "is_public": not group.is_private,
        "published_at": datetime(2026, 9, 1, 9, 0, tzinfo=UTC),
        **fields,
    }
    return await Post.create(**values)


class Scene:
    """A members-only group with a member's activity in it, and everyone who might ask."""

    def __init__(self, group: Group, note: Post, activity: OutboxActivity) -> None:
        self.group, self.note, self.activity = group, note, activity

    @property
    def paths(self) -> list[str]:
        note, activity = self.note.ap_id, self.activity.ap_id
        return [
            note.removeprefix(BASE),
            f"{note.removeprefix(BASE)}/replies",
            activity.removeprefix(BASE),
            "/g/grief/outbox",
            "/g/grief/outbox?page=1",
            "/g/grief/featured",
        ]


@pytest.fixture
async def scene(app: Starlette, settings: Settings, rosa: RemotePeer, mal: RemotePeer) -> Scene:
    group = await make_group(settings, "grief", private=True)
    member = await cache(app, rosa)
    for other in (rosa.neighbours["sam"], rosa.neighbours["peer.test"], mal):
        await cache(app, other)
    await request_membership(group, member, f"{rosa.actor_id}/follows/1")
    await decide_membership(group, member, approve=True)
    note = await group_note(group, "n1", is_pinned=True)
    await group_note(group, "n2", in_reply_to=note.ap_id)
    await announce(group, note)
    activity = await OutboxActivity.get(group=group, activity_type="Announce")
    return Scene(group, note, activity)


async def get(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> httpx.Response:
    return await client.get(path, headers={**AP, **headers})


def signed(peer: RemotePeer, path: str, scheme: str = "cavage") -> dict[str, str]:
    return peer.signed_get(f"{BASE}{path}", scheme=scheme)


def wire(response: httpx.Response) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Everything a reader can observe of an answer."""
    return response.status_code, response.headers.raw, response.content


async def never_existed(client: httpx.AsyncClient) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    return wire(await get(client, "/g/grief/posts/never-existed", {}))


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_member_signed_get_sees_everything(
    client: httpx.AsyncClient, scene: Scene, rosa: RemotePeer, scheme: str
) -> None:
    for path in scene.paths:
        response = await get(client, path, signed(rosa, path, scheme))
        assert response.status_code == 200, path
        assert response.headers["content-type"] == "application/activity+json"
        assert response.headers["vary"] == "Accept, Signature"
        assert response.headers["cache-control"] == "private, no-store"
    note = (await get(client, scene.paths[0], signed(rosa, scene.paths[0], scheme))).json()
    assert note["id"] == scene.note.ap_id
    assert CANARY in note["content"]
    activity = (await get(client, scene.paths[2], signed(rosa, scene.paths[2], scheme))).json()
    assert activity == scene.activity.payload
    assert activity["id"] == scene.activity.ap_id  # served at exactly its id


async def test_member_sees_outbox_featured_and_replies_items(
    client: httpx.AsyncClient, scene: Scene, rosa: RemotePeer
) -> None:
    async def body(path: str) -> dict[str, object]:
        return (await get(client, path, signed(rosa, path))).json()

    outbox = await body("/g/grief/outbox?page=1")
    assert outbox["orderedItems"] == [scene.activity.payload]
    assert (await body("/g/grief/featured"))["orderedItems"] == [scene.note.ap_id]
    replies_path = f"{scene.paths[1]}?page=1"
    assert (await body(replies_path))["orderedItems"] == [f"{BASE}/g/grief/posts/n2"]


def denied_headers(
    who: str, path: str, rosa: RemotePeer, mal: RemotePeer, forger_key: str
) -> dict[str, str]:
    """The request of each reader who is not an approved member."""
    if who == "unsigned":
        return {}
    if who == "forged":  # rosa's keyId, someone else's key: that is not rosa
        key = load_private_key(forger_key)
        return sign_cavage("GET", f"{BASE}{path}", AP, None, rosa.key_id, key)
    if who == "garbage":
        return {"Signature": 'keyId="https://peer.test/users/rosa#main-key",signature="x"'}
    signer = {"sam": rosa.neighbours["sam"], "instance-actor": rosa.neighbours["peer.test"]}
    return signed(signer.get(who, mal), path)


DENIED = ["unsigned", "garbage", "forged", "sam", "instance-actor", "mal"]


@pytest.mark.parametrize("who", DENIED)
async def test_everyone_else_gets_the_404_of_an_id_that_never_existed(
    client: httpx.AsyncClient,
    scene: Scene,
    rosa: RemotePeer,
    mal: RemotePeer,
    forger_key: str,
    who: str,
) -> None:
    expected = await never_existed(client)
    assert expected[0] == 404
    for path in scene.paths:
        response = await get(client, path, denied_headers(who, path, rosa, mal, forger_key))
        assert wire(response) == expected, (who, path)
        assert CANARY not in response.text


UNKNOWN = [
    "/g/grief/posts/never-existed",
    "/g/grief/posts/never-existed/replies",
    "/g/grief/activities/never-existed",
    "/g/nosuchgroup/posts/n1",
    "/g/nosuchgroup/activities/a1",
    "/g/nosuchgroup/outbox",
]


async def test_unknown_ids_look_the_same_to_members_and_strangers(
    client: httpx.AsyncClient, scene: Scene, rosa: RemotePeer
) -> None:
    expected = await never_existed(client)
    assert dict(expected[1])[b"vary"] == b"Accept, Signature"  # a 404 must not be cached...
    assert dict(expected[1])[b"cache-control"] == b"private, no-store"  # ...for the member
    for path in UNKNOWN:
        assert wire(await get(client, path, {})) == expected, path
        assert wire(await get(client, path, signed(rosa, path))) == expected, path


async def test_members_who_are_not_approved_see_nothing(
    client: httpx.AsyncClient, scene: Scene, rosa: RemotePeer
) -> None:
    expected = await never_existed(client)
    for state in (MembershipState.PENDING, MembershipState.BANNED, MembershipState.LEFT):
        await Membership.filter(group=scene.group).update(state=state)
        for path in scene.paths:
            assert wire(await get(client, path, signed(rosa, path))) == expected, (state, path)


async def test_a_member_on_a_blocked_domain_sees_nothing(
    client: httpx.AsyncClient, scene: Scene, rosa: RemotePeer
) -> None:
    await block_domain("peer.test", reason="harassment")
    expected = await never_existed(client)
    for path in scene.paths:
        assert wire(await get(client, path, signed(rosa, path))) == expected, path


async def test_a_replayed_signature_for_another_path_is_anonymous(
    client: httpx.AsyncClient, scene: Scene, rosa: RemotePeer
) -> None:
    headers = signed(rosa, "/g/grief/outbox")  # captured on one URL, replayed on another
    assert wire(await get(client, scene.paths[0], headers)) == await never_existed(client)


async def test_deleted_note_is_404_even_for_members(
    client: httpx.AsyncClient, scene: Scene, rosa: RemotePeer
) -> None:
    scene.note.deleted_at = datetime.now(UTC)
    await scene.note.save()
    expected = await never_existed(client)
    for path in scene.paths[:3]:  # the Note, its replies, and the Announce of it
        assert wire(await get(client, path, signed(rosa, path))) == expected, path
    outbox = await get(client, "/g/grief/outbox?page=1", signed(rosa, "/g/grief/outbox?page=1"))
    assert outbox.json()["orderedItems"] == []
    featured = await get(client, "/g/grief/featured", signed(rosa, "/g/grief/featured"))
    assert featured.json()["orderedItems"] == []


async def test_actor_and_follower_count_stay_public(
    client: httpx.AsyncClient, scene: Scene
) -> None:
    actor = await get(client, "/g/grief", {})
    assert actor.status_code == 200
    assert actor.json()["manuallyApprovesFollowers"] is True
    followers = (await get(client, "/g/grief/followers", {})).json()
    assert followers["totalItems"] == 1
    assert "first" not in followers
    moderators = (await get(client, "/g/grief/moderators", {})).json()
    assert "orderedItems" not in moderators  # moderators are members too (T66)


async def test_browsers_get_the_same_404_page(
    client: httpx.AsyncClient, scene: Scene, rosa: RemotePeer
) -> None:
    html = {"Accept": "text/html"}
    unknown = await client.get("/g/grief/posts/never-existed", headers=html)
    hidden = await client.get(scene.paths[0], headers={**signed(rosa, scene.paths[0]), **html})
    assert unknown.status_code == hidden.status_code == 404
    assert (hidden.headers.raw, hidden.content) == (unknown.headers.raw, unknown.content)


async def test_public_group_serves_everyone(
    app: Starlette, client: httpx.AsyncClient, settings: Settings, mal: RemotePeer
) -> None:
    group = await make_group(settings, "recovery")
    member = await cache(app, mal)
    await Membership.create(group=group, actor=member, state=MembershipState.APPROVED)
    note = await group_note(
        group, "p1", updated_at=datetime(2026, 9, 1, 10, 0, tzinfo=UTC), is_pinned=True
    )
    await announce(group, note)
    activity = await OutboxActivity.get(group=group, activity_type="Announce")
    path = note.ap_id.removeprefix(BASE)
    response = await get(client, path, {})
    assert response.status_code == 200
    assert response.headers["vary"] == "Accept, Signature"
    assert "cache-control" not in response.headers
    assert response.json() == {
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            {"sensitive": "as:sensitive", "Hashtag": "as:Hashtag"},
        ],
        "id": note.ap_id,
        "type": "Note",
        "attributedTo": f"{BASE}/g/recovery",
        "audience": f"{BASE}/g/recovery",
        "to": [PUBLIC],
        "cc": [f"{BASE}/g/recovery/followers"],
        "content": f"<p>I relapsed last night {CANARY}</p>",
        "summary": "relapse",
        "sensitive": True,
        "inReplyTo": None,
        "published": "2026-09-01T09:00:00Z",
        "updated": "2026-09-01T10:00:00Z",
        "replies": f"{note.ap_id}/replies",
    }
    served = await get(client, activity.ap_id.removeprefix(BASE), signed(mal, path))
    assert served.json() == activity.payload
    featured = (await get(client, "/g/recovery/featured", {})).json()
    assert featured["orderedItems"] == [note.ap_id]
    moderators = await get(client, "/g/recovery/moderators", {})
    assert moderators.json()["orderedItems"] == []


async def test_private_group_note_is_addressed_to_followers_only(
    client: httpx.AsyncClient, scene: Scene, rosa: RemotePeer
) -> None:
    body = (await get(client, scene.paths[0], signed(rosa, scene.paths[0]))).json()
    assert body["to"] == [f"{BASE}/g/grief/followers"]
    assert body["cc"] == []
    assert PUBLIC not in str(body)


async def test_answers_to_one_actor_are_for_that_actor_alone(
    app: Starlette, client: httpx.AsyncClient, settings: Settings, rosa: RemotePeer, mal: RemotePeer
) -> None:
    group = await make_group(settings, "recovery")
    member = await cache(app, rosa)
    await cache(app, mal)
    await request_membership(group, member, f"{rosa.actor_id}/follows/1")
    accept = await OutboxActivity.get(group=group, activity_type="Accept")
    path = accept.ap_id.removeprefix(BASE)
    assert (await get(client, path, signed(rosa, path))).status_code == 200
    expected = wire(await get(client, "/g/recovery/activities/never-existed", {}))
    assert wire(await get(client, path, signed(mal, path))) == expected
    assert wire(await get(client, path, {})) == expected


async def test_a_ban_is_for_the_banned_alone_not_for_other_members(
    app: Starlette, client: httpx.AsyncClient, settings: Settings, rosa: RemotePeer
) -> None:
    group = await make_group(settings, "recovery")
    member = await cache(app, rosa)
    banned = await cache(app, rosa.neighbours["sam"])
    await request_membership(group, member, f"{rosa.actor_id}/follows/1")
    await request_membership(group, banned, f"{banned.ap_id}/follows/1")
    await ban_member(group, banned)
    await unban_member(group, banned)
    sam = rosa.neighbours["sam"]
    path = "/g/recovery/outbox?page=1"
    outbox = await get(client, path, signed(rosa, path))
    assert outbox.json()["orderedItems"] == []  # who was banned is nobody else's business (T66)
    for kind in ("Block", "Reject", "Undo"):
        activity = await OutboxActivity.get(group=group, activity_type=kind)
        path = activity.ap_id.removeprefix(BASE)
        assert (await get(client, path, signed(sam, path))).status_code == 200, kind
        assert (await get(client, path, signed(rosa, path))).status_code == 404, kind
        assert (await get(client, path, {})).status_code == 404, kind


async def test_public_group_followers_only_activity_needs_a_member(
    app: Starlette, client: httpx.AsyncClient, settings: Settings, rosa: RemotePeer, mal: RemotePeer
) -> None:
    group = await make_group(settings, "recovery")
    member = await cache(app, rosa)
    await cache(app, mal)
    await Membership.create(group=group, actor=member, state=MembershipState.APPROVED)
    post = await group_note(group, "fo", is_public=False)
    await announce(group, post)
    activity = await OutboxActivity.get(group=group, activity_type="Announce")
    assert activity.is_public is False
    path = activity.ap_id.removeprefix(BASE)
    member_view = await get(client, path, signed(rosa, path))
    assert member_view.status_code == 200
    assert member_view.headers["cache-control"] == "private, no-store"
    assert (await get(client, path, signed(mal, path))).status_code == 404
    outbox = (await get(client, "/g/recovery/outbox?page=1", {})).json()
    assert outbox["orderedItems"] == []  # the public outbox lists public activities only


@pytest.fixture
async def loopback_app(database_url: str, tmp_path: Path) -> AsyncIterator[Starlette]:
    """An instance allowed to fetch keys from peers on loopback ports."""
    settings = make_settings(database_url, tmp_path / "data", FEDGROUPS_ALLOW_PRIVATE_PEERS="1")
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        with bind_context(application.state.db):
            yield application


async def test_only_members_only_reads_verify_signatures(loopback_app: Starlette) -> None:
    settings: Settings = loopback_app.state.settings
    public = await make_group(settings, "recovery")
    private = await make_group(settings, "grief", private=True)
    paths = [
        (await group_note(group, "n1")).ap_id.removeprefix(BASE) for group in (public, private)
    ]
    transport = httpx.ASGITransport(app=loopback_app)
    async with (
        serve_peer() as peer,
        httpx.AsyncClient(transport=transport, base_url=BASE) as client,
    ):
        response = await get(client, paths[0], signed(peer, paths[0]))
        assert response.status_code == 200
        assert peer.actor_fetches == 0  # a public read never verifies, never fetches a key
        response = await get(client, paths[1], signed(peer, paths[1]))
        assert response.status_code == 404
        assert peer.actor_fetches == 1  # a members-only read does, once
        response = await get(client, paths[1], signed(peer, paths[1]))
        assert peer.actor_fetches == 1  # then from the cache
