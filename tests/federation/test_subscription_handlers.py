"""Accept, Reject, Block and Undo Block from remote groups, through the dispatch table."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fedgroups.errors import MalformedActivity
from fedgroups.federation.context import Federation
from fedgroups.federation.dispatch import Ignored
from fedgroups.groups.following import follow_remote_group
from fedgroups.models import Actor, GroupSubscription, GroupSubscriptionState
from tests.factories import make_account
from tests.federation.inbox_support import process
from tests.peer import RemotePeer, serve_peer

State = GroupSubscriptionState


@pytest.fixture
async def group(federation: Federation) -> AsyncIterator[RemotePeer]:
    """A remote group on a loopback port."""

    def factory(base_url: str) -> RemotePeer:
        return RemotePeer(base_url=base_url, name="recovery", kind="Group")

    async with serve_peer(factory) as peer:
        yield peer


@pytest.fixture
async def asked(federation: Federation, group: RemotePeer) -> GroupSubscription:
    """bob, a local person, asked to join the group."""
    account = await make_account(federation.settings, "bob")
    return await follow_remote_group(federation, account, group.handle)


async def bob() -> Actor:
    return await Actor.get(username="bob", is_local=True)


def follow_of(subscription: GroupSubscription, person: Actor, group: RemotePeer) -> dict[str, str]:
    return {
        "id": subscription.follow_ap_id,
        "type": "Follow",
        "actor": person.ap_id,
        "object": group.actor_id,
    }


async def state() -> State:
    return (await GroupSubscription.get()).state


async def test_accept_with_the_follow_embedded(
    federation: Federation, group: RemotePeer, asked: GroupSubscription
) -> None:
    person = await bob()
    await process(federation, group.activity("Accept", follow_of(asked, person, group)))
    assert await state() == State.ACCEPTED


async def test_accept_naming_the_follow_by_id(
    federation: Federation, group: RemotePeer, asked: GroupSubscription
) -> None:
    await process(federation, group.activity("Accept", asked.follow_ap_id))
    assert await state() == State.ACCEPTED


async def test_reject_then_reject_after_accept(
    federation: Federation, group: RemotePeer, asked: GroupSubscription
) -> None:
    person = await bob()
    await process(federation, group.activity("Reject", follow_of(asked, person, group), 1))
    assert await state() == State.REJECTED
    again = await follow_remote_group(federation, person, group.handle)
    await process(federation, group.activity("Accept", follow_of(again, person, group), 2))
    assert await state() == State.ACCEPTED
    await process(federation, group.activity("Reject", follow_of(again, person, group), 3))
    assert await state() == State.REMOVED  # how Mastodon and we remove a member


async def test_nobody_else_can_answer_for_the_group(
    federation: Federation, group: RemotePeer, asked: GroupSubscription
) -> None:
    person = await bob()
    async with serve_peer() as mal:
        with pytest.raises(Ignored):
            await process(federation, mal.activity("Accept", asked.follow_ap_id))
        forged = {**follow_of(asked, person, group), "object": mal.actor_id}
        with pytest.raises(MalformedActivity):
            await process(federation, group.activity("Accept", forged))
    assert await state() == State.PENDING


async def test_block_bans_and_undo_lifts(
    federation: Federation, group: RemotePeer, asked: GroupSubscription
) -> None:
    person = await bob()
    block = group.activity("Block", person.ap_id)
    await process(federation, block)
    assert await state() == State.BANNED
    await process(federation, group.activity("Undo", block))
    assert await state() == State.LEFT


async def test_block_of_someone_unknown_is_ignored(
    federation: Federation, group: RemotePeer
) -> None:
    with pytest.raises(Ignored):
        await process(federation, group.activity("Block", "https://elsewhere.test/users/x"))
    assert await GroupSubscription.all().count() == 0
