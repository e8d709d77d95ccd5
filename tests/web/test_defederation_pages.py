"""Defederation in the pages: a group's page says which servers it no longer reaches and why,
a visitor checks their own server, and members read the notice in their notifications."""

from __future__ import annotations

import httpx

from fedgroups.groups.domains import block_domain
from fedgroups.groups.intake import decide_join_request
from fedgroups.groups.joining import join_group
from fedgroups.groups.membership import request_membership
from fedgroups.models import Group
from fedgroups.settings import Settings
from tests.factories import make_account, make_group, make_remote_actor
from tests.web.browsing import log_in, post_form

SEVERED = "Servers this group no longer reaches"


async def test_the_group_page_tells_visitors_which_servers_and_why(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    lena = await make_account(settings, "lena")
    group = await make_group(settings, "recovery")
    await join_group(group, lena.actor, [])
    mal = await make_remote_actor("https://evil.test", "mal")
    await request_membership(group, mal, "https://evil.test/follows/1")
    assert SEVERED not in (await client.get("/g/recovery")).text
    await block_domain("evil.test", reason="harassment of members")

    page = (await client.get("/g/recovery")).text
    assert SEVERED in page and "<strong>evil.test</strong>: harassment of members" in page
    asked = (await client.get("/g/recovery", params={"server": "@mal@evil.test"})).text
    assert "no longer federates with <strong>evil.test</strong>: harassment of members." in asked
    fine = (await client.get("/g/recovery", params={"server": "rosa@peer.test"})).text
    assert "peer.test can take part" in fine and "no longer federates" not in fine
    wrong = (await client.get("/g/recovery", params={"server": "no such thing!"})).text
    assert "not a server" in wrong

    await log_in(client, "lena")
    notices = (await client.get("/notifications")).text
    assert "no longer federates with <strong>evil.test</strong>: harassment of members." in notices
    assert "Members of" in notices and 'href="/g/recovery"' in notices


async def test_a_members_only_group_tells_its_members_alone(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_account(settings, "omar")
    await make_group(settings, "quiet", private=True, owner="omar")
    group = await Group.get(slug="quiet").select_related("actor")
    mal = await make_remote_actor("https://evil.test", "mal")
    await request_membership(group, mal, "https://evil.test/follows/1")
    await decide_join_request(group, mal, approve=True)
    await block_domain("evil.test", reason="harassment")
    assert SEVERED not in (await client.get("/g/quiet")).text  # who is in it stays private
    asked = (await client.get("/g/quiet", params={"server": "evil.test"})).text
    assert "no longer federates with <strong>evil.test</strong>: harassment." in asked
    await log_in(client, "omar")
    assert SEVERED in (await client.get("/g/quiet")).text


async def test_following_a_group_on_a_refused_server_says_why(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_account(settings, "lena")
    await block_domain("evil.test", reason="harassment of members.")
    await log_in(client, "lena")
    for address in ("circle@evil.test", "https://sub.evil.test/@circle"):
        refused = await post_form(client, "/follow", None, {"handle": address})
        assert refused.status_code == 400
        assert (
            "no longer federates with" in refused.text and "harassment of members." in refused.text
        )
