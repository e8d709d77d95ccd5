"""Pages of groups on other servers: what they carry is shown to whom visibility allows, and
members post to them from here."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from fedgroups.models import (
    Actor,
    ActorKind,
    GroupSubscription,
    GroupSubscriptionState,
    OutboxActivity,
    RemoteGroupPost,
)
from fedgroups.settings import Settings
from tests.factories import make_account, make_remote_actor
from tests.web.browsing import log_in, post_form
from tests.web.test_group_pages import new_client


async def _remote_group(private: bool) -> Actor:
    group = await make_remote_actor("https://peer.test", "circle")
    group.kind = ActorKind.GROUP
    group.display_name = "Peer Circle"
    group.summary = '<p>Hello <script>alert(1)</script><a href="javascript:x()">x</a></p>'
    group.manually_approves_followers = private
    await group.save()
    author = await make_remote_actor("https://peer.test", "rosa")
    now = datetime.now(UTC)
    await RemoteGroupPost.create(
        ap_id="https://peer.test/p/1", group_actor=group, author=author, content="<p>carried</p>",
        summary="heavy", is_public=not private, announced_at=now, published_at=now,
    )  # fmt: skip
    return group


async def test_members_read_and_post_to_a_group_elsewhere(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_account(settings, "lena")
    group = await _remote_group(private=True)
    lena = await Actor.get(username="lena")
    await log_in(client, "lena")
    outside = await client.get(f"/r/{group.id}")
    assert "carried" not in outside.text and "Only members" in outside.text
    assert "<script>" not in outside.text and "javascript:" not in outside.text
    await GroupSubscription.create(
        actor=lena, group_actor=group, state=GroupSubscriptionState.ACCEPTED
    )
    page = await client.get(f"/r/{group.id}")
    assert "carried" in page.text and '<details class="cw">' in page.text
    post = await RemoteGroupPost.get(ap_id="https://peer.test/p/1")
    sent = await post_form(
        client, f"/r/{group.id}/t/{post.id}", f"/r/{group.id}/t/{post.id}/reply",
        {"body": "Me too.", "summary": ""},
    )  # fmt: skip
    assert sent.status_code == 303
    create = await OutboxActivity.get(activity_type="Create", actor=lena)
    assert create.payload["object"]["inReplyTo"] == "https://peer.test/p/1"
    assert create.payload["to"] == [group.ap_id]  # members-only: to the group alone
    assert "Me too." in (await client.get(f"/r/{group.id}/t/{post.id}")).text
    async with new_client(client, settings) as stranger:
        hidden = await stranger.get(f"/r/{group.id}/t/{post.id}")
        assert hidden.status_code == 404


async def test_following_by_handle_shows_errors_next_to_the_field(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_account(settings, "lena")
    await log_in(client, "lena")
    response = await post_form(client, "/follow", None, {"handle": "not a handle"})
    assert response.status_code == 400
    assert 'id="f-handle-error"' in response.text and 'value="not a handle"' in response.text


async def test_deleting_an_own_post_elsewhere_sends_a_delete(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_account(settings, "lena")
    group = await _remote_group(private=False)
    lena = await Actor.get(username="lena")
    await GroupSubscription.create(
        actor=lena, group_actor=group, state=GroupSubscriptionState.ACCEPTED
    )
    await log_in(client, "lena")
    await post_form(client, f"/r/{group.id}", f"/r/{group.id}/compose", {"body": "oops"})
    mine = await RemoteGroupPost.get(author=lena)
    deleted = await post_form(client, f"/r/{group.id}/t/{mine.id}/delete", None, {})
    assert deleted.status_code == 303
    assert (await RemoteGroupPost.get(id=mine.id)).deleted_at is not None
    delete = await OutboxActivity.get(activity_type="Delete", actor=lena)
    assert delete.payload["object"]["id"] == mine.ap_id
