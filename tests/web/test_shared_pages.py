"""One rendering of a public group's page serves every anonymous reader, until what it shows
changes: a post, an edit, a removal, a change of who may see what, in any process.

It never serves one reader's view to another: nothing of a logged-in reader's or of a
members-only group's is shared, and no browser's CSRF token is in what is shared.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from fedgroups.app import create_app
from fedgroups.db import bind_context
from fedgroups.groups.joining import join_group
from fedgroups.groups.moderation import remove_post
from fedgroups.models import Actor, Group, Post
from fedgroups.settings import Settings
from tests.factories import make_account, make_group
from tests.web.browsing import log_in


async def _post(group: Group, author: Actor, text: str, *, public: bool = True) -> Post:
    return await Post.create(
        ap_id=f"{author.ap_id}/posts/{text.replace(' ', '-')}",
        group=group,
        author=author,
        publisher=author,
        content=f"<p>{text}</p>",
        is_public=public,
        published_at=datetime.now(UTC),
    )


async def _write_elsewhere(settings: Settings, statement: str) -> None:
    """A write by another process: its own connection, none of this app's code."""
    url = settings.database_url
    if url.startswith("sqlite://"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as connection:
            connection.execute(statement)
        return
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _cached(app: Starlette) -> int:
    return len(app.state.shared_pages)


async def test_anonymous_readers_share_one_rendering(
    app: Starlette, client: httpx.AsyncClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    lena = await make_account(settings, "lena")
    group = await make_group(settings, "recovery")
    await join_group(group, lena.actor, [])
    await _post(group, lena.actor, "first steps")
    first = await client.get("/g/recovery")
    assert "first steps" in first.text and _cached(app) == 1
    with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
        second = await client.get("/g/recovery")
    assert second.text == first.text
    assert not [line for line in caplog.messages if '"posts"' in line]  # nothing read again
    async with httpx.AsyncClient(transport=client._transport, base_url=settings.base_url) as other:
        assert (await other.get("/g/recovery")).text == first.text  # another browser alike
    assert 'name="csrf"' not in first.text


async def test_a_new_post_an_edit_and_a_removal_show_at_once(
    app: Starlette, client: httpx.AsyncClient, settings: Settings
) -> None:
    lena = await make_account(settings, "lena")
    group = await make_group(settings, "recovery")
    await join_group(group, lena.actor, [])
    kept = await _post(group, lena.actor, "a good week")
    assert "a good week" in (await client.get("/g/recovery")).text

    await _post(group, lena.actor, "news from today")
    assert "news from today" in (await client.get("/g/recovery")).text
    await _write_elsewhere(
        settings, f"UPDATE posts SET content = '<p>an edited week</p>' WHERE id = {kept.id}"
    )
    page = (await client.get("/g/recovery")).text
    assert "an edited week" in page and "a good week" not in page
    await remove_post(group, await Post.get(id=kept.id).select_related("author"))
    assert "an edited week" not in (await client.get("/g/recovery")).text
    assert "news from today" in (await client.get("/g/recovery")).text


async def test_what_becomes_hidden_is_gone_from_the_shared_page(
    app: Starlette, client: httpx.AsyncClient, settings: Settings
) -> None:
    lena = await make_account(settings, "lena")
    group = await make_group(settings, "recovery")
    await join_group(group, lena.actor, [])
    post = await _post(group, lena.actor, "between us")
    assert "between us" in (await client.get("/g/recovery")).text

    await _write_elsewhere(settings, f"UPDATE posts SET is_public = false WHERE id = {post.id}")
    assert "between us" not in (await client.get("/g/recovery")).text
    await _write_elsewhere(settings, f"UPDATE posts SET is_public = true WHERE id = {post.id}")
    assert "between us" in (await client.get("/g/recovery")).text
    await _write_elsewhere(settings, f"UPDATE groups SET is_private = true WHERE id = {group.id}")
    page = (await client.get("/g/recovery")).text
    assert "between us" not in page and "Only members can read" in page
    renamed = f"UPDATE actors SET display_name = 'L.' WHERE id = {lena.actor.id}"
    await _write_elsewhere(settings, renamed)
    await _write_elsewhere(settings, f"UPDATE groups SET is_private = false WHERE id = {group.id}")
    assert "<strong>L.</strong>" in (await client.get("/g/recovery")).text  # names follow
    await _write_elsewhere(settings, f"UPDATE groups SET name = 'Renamed' WHERE id = {group.id}")
    assert "<h1>Renamed</h1>" in (await client.get("/g/recovery")).text
    gone = f"UPDATE actors SET gone_at = created_at WHERE id = {group.actor.id}"
    await _write_elsewhere(settings, gone)
    assert (await client.get("/g/recovery")).status_code == 404


async def test_a_members_view_never_reaches_anyone_else(
    app: Starlette, client: httpx.AsyncClient, settings: Settings
) -> None:
    lena = await make_account(settings, "lena")
    group = await make_group(settings, "recovery")
    await join_group(group, lena.actor, [])
    await _post(group, lena.actor, "said to everyone")
    await _post(group, lena.actor, "said to members", public=False)
    anonymous = (await client.get("/g/recovery")).text
    assert "said to everyone" in anonymous and "said to members" not in anonymous

    async with httpx.AsyncClient(transport=client._transport, base_url=settings.base_url) as member:
        await log_in(member, "lena")
        own = (await member.get("/g/recovery")).text
        assert "said to members" in own and "Leave group" in own
        again = (await client.get("/g/recovery")).text
        assert "said to members" not in again and "Leave group" not in again
        assert 'name="csrf"' not in again
        assert "said to members" in (await member.get("/g/recovery")).text


async def test_a_members_only_groups_page_is_never_shared(
    app: Starlette, client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_account(settings, "omar")
    group = await make_group(settings, "quiet", private=True, owner="omar")
    owner = await Actor.get(username="omar", is_local=True)
    await _post(group, owner, "only for us")
    async with httpx.AsyncClient(transport=client._transport, base_url=settings.base_url) as member:
        await log_in(member, "omar")
        assert "only for us" in (await member.get("/g/quiet")).text
    page = (await client.get("/g/quiet")).text
    assert "only for us" not in page and "Only members can read" in page
    assert _cached(app) == 0


async def test_processes_sharing_a_database_each_see_the_others_changes(
    app: Starlette, client: httpx.AsyncClient, settings: Settings
) -> None:
    lena = await make_account(settings, "lena")
    group = await make_group(settings, "recovery")
    await join_group(group, lena.actor, [])
    post = await _post(group, lena.actor, "before")
    other = create_app(settings)
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as there:
            assert "before" in (await there.get("/g/recovery")).text
            assert "before" in (await client.get("/g/recovery")).text
            with bind_context(other.state.db):
                await remove_post(
                    group, await Post.get(id=post.id).select_related("author")
                )  # there
            assert "before" not in (await client.get("/g/recovery")).text
            assert "before" not in (await there.get("/g/recovery")).text
