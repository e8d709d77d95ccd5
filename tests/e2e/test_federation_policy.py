"""Federation policy over the real wire: a `fedgroups serve` process in allowlist and cautious
mode, and remote servers on other loopback ports that sign what they send."""

from __future__ import annotations

import pytest

from tests.e2e.instances import Instance, wait_for
from tests.e2e.test_group_flow import received_of, send
from tests.peer import serve_peer

pytestmark = pytest.mark.e2e


async def test_allowlist_mode_drops_an_unlisted_server_and_sends_it_nothing(
    instance: Instance,
) -> None:
    instance.cli("group", "create", "recovery", "--name", "Recovery Circle")
    group_id = f"{instance.base_url}/g/recovery"
    async with serve_peer() as stranger, serve_peer() as friend:
        instance.cli("domain", "allow", friend.domain)
        assert "allowlist" in instance.cli("instance", "mode", "allowlist").stdout
        follow = stranger.activity("Follow", group_id)
        assert await send(instance, stranger, "/inbox", follow) == 202
        sentinel = friend.activity("Follow", group_id)
        assert await send(instance, friend, "/inbox", sentinel) == 202
        await wait_for(lambda: received_of(friend, "Accept", sentinel["id"]), what="sentinel")
        post = friend.activity(
            "Create",
            {
                "id": f"{friend.actor_id}/notes/1",
                "type": "Note",
                "attributedTo": friend.actor_id,
                "content": "<p>hello</p>",
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
                "cc": [group_id],
            },
        )
        assert await send(instance, friend, "/inbox", post) == 202
        await wait_for(lambda: received_of(friend, "Announce"), what="the friend's post shared")
        assert stranger.received == []
        assert stranger.actor_fetches == 0  # not even its key was fetched
        assert await instance.inbox_item_state(follow["id"]) is None
        health = instance.cli("domain", "health", stranger.domain).stdout
        assert f"{stranger.domain}\trefused" in health


async def test_cautious_mode_holds_a_new_servers_follow_until_an_admin_says_yes(
    instance: Instance,
) -> None:
    instance.cli("group", "create", "recovery", "--name", "Recovery Circle")
    group_id = f"{instance.base_url}/g/recovery"
    instance.cli("instance", "mode", "cautious")
    async with serve_peer() as newcomer:
        follow = newcomer.activity("Follow", group_id)
        assert await send(instance, newcomer, "/g/recovery/inbox", follow) == 202
        await wait_for(lambda: _held(instance, follow["id"]), what="the Follow to be held")
        pending = instance.cli("domain", "pending").stdout
        assert pending.startswith(f"{newcomer.domain}\t1 waiting")
        assert newcomer.actor_id in pending
        assert received_of(newcomer, "Accept") == []
        assert "allowed" in instance.cli("domain", "allow", newcomer.domain).stdout
        await wait_for(lambda: received_of(newcomer, "Accept", follow["id"]), what="Accept")
        assert instance.cli("domain", "pending").stdout.strip() == "no domain is waiting"


async def _held(instance: Instance, activity_id: str) -> bool:
    return await instance.inbox_item_state(activity_id) == "held"
