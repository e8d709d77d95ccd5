"""Following groups on other servers: WebFinger, the stored request, the Follow and its Undo,
and how the group's answers (Accept, Reject, Block) change the request.
"""

from __future__ import annotations

import pytest

from fedgroups.errors import Conflict, NotFound, ValidationError
from fedgroups.federation.context import Federation
from fedgroups.groups.following import (
    follow_remote_group,
    record_ban,
    record_follow_answer,
    record_unban,
    subscriptions_of,
    unfollow_remote_group,
)
from fedgroups.models import Account, Delivery, GroupSubscription, GroupSubscriptionState
from tests.factories import make_account, make_group
from tests.peer import RemotePeer, serve_peer

State = GroupSubscriptionState


def group_peer(base_url: str) -> RemotePeer:
    return RemotePeer(base_url=base_url, name="recovery", kind="Group")


async def sent(kind: str) -> list[dict[str, object]]:
    deliveries = await Delivery.filter(activity__activity_type=kind).select_related("activity")
    return [delivery.activity.payload for delivery in deliveries]


@pytest.fixture
async def bob(federation: Federation) -> Account:
    account = await make_account(federation.settings, "bob")
    await account.fetch_related("actor")
    return account


async def test_follow_by_handle_stores_a_pending_request_and_sends_a_follow(
    federation: Federation, bob: Account
) -> None:
    async with serve_peer(group_peer) as group:
        subscription = await follow_remote_group(federation, bob, f"@{group.handle}")
    assert subscription.state == State.PENDING
    follows = await sent("Follow")
    assert follows == [
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": subscription.follow_ap_id,
            "type": "Follow",
            "actor": bob.actor.ap_id,
            "object": group.actor_id,
        }
    ]
    delivery = await Delivery.get()
    assert delivery.inbox_url == f"{group.base_url}/inbox"
    assert subscription.follow_ap_id.startswith(f"{bob.actor.ap_id}/activities/")


async def test_follow_by_url_and_again_changes_nothing(
    federation: Federation, bob: Account
) -> None:
    async with serve_peer(group_peer) as group:
        first = await follow_remote_group(federation, bob, group.actor_id)
        again = await follow_remote_group(federation, bob, group.handle)
    assert again.id == first.id
    assert again.follow_ap_id == first.follow_ap_id
    assert len(await sent("Follow")) == 1


async def test_only_remote_groups_can_be_followed(federation: Federation, bob: Account) -> None:
    await make_group(federation.settings, "local")
    with pytest.raises(ValidationError, match="hosted here"):
        await follow_remote_group(federation, bob, f"local@{federation.settings.domain}")
    async with serve_peer() as person:
        with pytest.raises(ValidationError, match="not a group"):
            await follow_remote_group(federation, bob, person.handle)
        with pytest.raises(NotFound):
            await follow_remote_group(federation, bob, f"nobody@{person.domain}")
    with pytest.raises(ValidationError, match="not a handle"):
        await follow_remote_group(federation, bob, "not a handle")
    assert await GroupSubscription.all().count() == 0


async def test_unfollow_sends_undo_with_the_follow_even_when_the_group_is_down(
    federation: Federation, bob: Account
) -> None:
    async with serve_peer(group_peer) as group:
        subscription = await follow_remote_group(federation, bob, group.handle)
    left = await unfollow_remote_group(federation, bob, group.handle)  # the peer is gone now
    assert left.state == State.LEFT
    [undo] = await sent("Undo")
    assert undo["actor"] == bob.actor.ap_id
    assert undo["object"] == {
        "id": subscription.follow_ap_id,
        "type": "Follow",
        "actor": bob.actor.ap_id,
        "object": group.actor_id,
    }
    with pytest.raises(NotFound, match="does not follow"):
        await unfollow_remote_group(federation, bob, group.actor_id)


async def test_refollow_after_leaving_sends_a_new_follow(
    federation: Federation, bob: Account
) -> None:
    async with serve_peer(group_peer) as group:
        first = await follow_remote_group(federation, bob, group.handle)
        await unfollow_remote_group(federation, bob, group.handle)
        second = await follow_remote_group(federation, bob, group.handle)
    assert second.state == State.PENDING
    assert second.follow_ap_id != first.follow_ap_id
    assert len(await sent("Follow")) == 2


async def test_answers_move_the_request_along(federation: Federation, bob: Account) -> None:
    async with serve_peer(group_peer) as group:
        subscription = await follow_remote_group(federation, bob, group.handle)
    actor = await subscription.group_actor
    follow_id = subscription.follow_ap_id
    accepted = await record_follow_answer(actor, follow_id, "", accepted=True)
    assert accepted is not None and accepted.state == State.ACCEPTED
    # Mastodon's fallback: an unknown Follow id, matched by who followed whom.
    removed = await record_follow_answer(
        actor, "https://x.test/f/9", bob.actor.ap_id, accepted=False
    )
    assert removed is not None and removed.state == State.REMOVED
    late = await record_follow_answer(actor, follow_id, "", accepted=True)
    assert late is not None and late.state == State.REMOVED  # a late Accept does not re-admit


async def test_reject_of_a_pending_request_and_answers_from_others(
    federation: Federation, bob: Account
) -> None:
    async with serve_peer(group_peer) as group, serve_peer() as other:
        subscription = await follow_remote_group(federation, bob, group.handle)
        stranger = await federation.remote_actors.get_actor(other.actor_id)
    follow_id = subscription.follow_ap_id
    assert await record_follow_answer(stranger, follow_id, bob.actor.ap_id, accepted=True) is None
    rejected = await record_follow_answer(
        await subscription.group_actor, follow_id, "", accepted=False
    )
    assert rejected is not None and rejected.state == State.REJECTED


async def test_a_ban_is_recorded_and_blocks_following_until_lifted(
    federation: Federation, bob: Account
) -> None:
    async with serve_peer(group_peer) as group:
        subscription = await follow_remote_group(federation, bob, group.handle)
        actor = await subscription.group_actor
        banned = await record_ban(actor, bob.actor.ap_id)
        assert banned is not None and banned.state == State.BANNED
        with pytest.raises(Conflict, match="banned"):
            await follow_remote_group(federation, bob, group.handle)
        lifted = await record_unban(actor, bob.actor.ap_id)
        assert lifted is not None and lifted.state == State.LEFT
        again = await follow_remote_group(federation, bob, group.handle)
    assert again.state == State.PENDING
    assert await record_ban(actor, "https://nobody.test/users/x") is None


async def test_a_ban_without_a_follow_is_still_recorded(
    federation: Federation, bob: Account
) -> None:
    async with serve_peer(group_peer) as group, serve_peer() as person:
        group_actor = await federation.remote_actors.get_actor(group.actor_id)
        person_actor = await federation.remote_actors.get_actor(person.actor_id)
    banned = await record_ban(group_actor, bob.actor.ap_id)
    assert banned is not None and banned.state == State.BANNED
    assert await record_ban(person_actor, bob.actor.ap_id) is None  # a person's block: not ours
    assert [s.group_actor.ap_id for s in await subscriptions_of(bob.actor)] == [group.actor_id]
