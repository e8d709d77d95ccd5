"""Group pages: joining, posting with content warnings, threads as trees, members-only reads."""

from __future__ import annotations

import re

import httpx
from starlette.applications import Starlette

from fedgroups.models import (
    Actor,
    Group,
    Membership,
    MembershipState,
    Notification,
    OutboxActivity,
    Post,
)
from fedgroups.settings import Settings
from tests.factories import make_account, make_group, make_remote_actor
from tests.web.browsing import log_in, post_form


def new_client(client: httpx.AsyncClient, settings: Settings) -> httpx.AsyncClient:
    """A second browser on the same instance."""
    return httpx.AsyncClient(transport=client._transport, base_url=settings.base_url)


async def test_a_member_joins_posts_behind_a_warning_and_gets_a_reply(
    app: Starlette, client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_account(settings, "lena")
    await make_account(settings, "ben")
    group = await make_group(settings, "recovery")
    remote = await make_remote_actor("https://peer.test")
    await Membership.create(group=group, actor=remote, state=MembershipState.APPROVED)
    await log_in(client, "lena")
    page = await client.get("/g/recovery")
    assert "Join group" in page.text
    assert (await post_form(client, "/g/recovery", "/g/recovery/join", {})).status_code == 303
    assert "New post" in (await client.get("/g/recovery")).text

    response = await post_form(
        client, "/g/recovery/compose", None,
        {"summary": "talk of relapse", "body": "It was a **hard** week.\n\n<script>x()</script>"},
    )  # fmt: skip
    assert response.status_code == 303
    post = await Post.get(group=group)
    assert post.summary == "talk of relapse"
    assert "<strong>hard</strong>" in post.content and "<script>" not in post.content
    thread = await client.get(response.headers["location"])
    assert '<details class="cw">' in thread.text and "talk of relapse" in thread.text
    # Announced to the group's remote member, with the author's Create kept for FEP-1b12.
    boosts = await OutboxActivity.filter(activity_type="Announce", object_ap_id=post.ap_id)
    assert boosts and all(boost.is_public for boost in boosts)
    assert post.ap_id in [boost.payload["object"] for boost in boosts]  # Mastodon's form
    assert post.create_activity is not None and post.create_activity["object"]["sensitive"]

    async with new_client(client, settings) as ben:
        await log_in(ben, "ben")
        await post_form(ben, "/g/recovery", "/g/recovery/join", {})
        reply = await post_form(
            ben, f"/g/recovery/t/{post.id}/reply", None, {"body": "Thank you @lena"}
        )
        assert reply.status_code == 303
    notices = await Notification.filter(account__actor__username="lena").values_list(
        "kind", flat=True
    )
    assert list(notices) == ["reply"]  # a reply that also mentions is told once
    thread = await client.get(f"/g/recovery/t/{post.id}")
    assert re.search(r'class="replies">\s*<li id="p\d+">', thread.text)
    assert "Thank you" in thread.text
    page = await client.get("/notifications")
    assert "replied to your post" in page.text


async def test_posting_keeps_what_was_typed_when_it_fails(
    app: Starlette, client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_account(settings, "lena")
    await make_group(settings, "recovery")
    await log_in(client, "lena")
    await post_form(client, "/g/recovery", "/g/recovery/join", {})
    response = await post_form(
        client, "/g/recovery/compose", None, {"summary": "x" * 300, "body": "keep me"}
    )
    assert response.status_code == 400
    assert 'id="f-summary-error"' in response.text and "keep me</textarea>" in response.text


async def test_non_members_cannot_post(client: httpx.AsyncClient, settings: Settings) -> None:
    await make_account(settings, "lena")
    await make_group(settings, "recovery")
    await log_in(client, "lena")
    response = await post_form(client, "/g/recovery", "/g/recovery/compose", {"body": "hi"})
    assert response.status_code == 403
    assert await Post.all().count() == 0


async def test_private_group_asks_questions_and_hides_posts_until_approved(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_account(settings, "owner")
    await make_account(settings, "sam")
    await log_in(client, "owner")
    created = await post_form(
        client, "/groups/new", None,
        {"name": "Grief circle", "slug": "grief", "private": "1",
         "questions": "What brings you here?\nDo you agree to the rules?"},
    )  # fmt: skip
    assert created.status_code == 303
    await post_form(client, "/g/grief/compose", None, {"body": "members only words"})
    post = await Post.get()
    async with new_client(client, settings) as sam:
        outside = (await sam.get("/g/grief")).text
        assert "members only words" not in outside
        assert "/u/owner" not in outside  # T66: not even who moderates it
        hidden = await sam.get(f"/g/grief/t/{post.id}")
        missing = await sam.get("/g/grief/t/999999")
        assert hidden.status_code == missing.status_code == 404
        assert hidden.text == missing.text
        await log_in(sam, "sam")
        form = await sam.get("/g/grief/join")
        assert "What brings you here?" in form.text
        unanswered = await post_form(sam, "/g/grief/join", None, {"answer0": "loss"})
        assert unanswered.status_code == 400 and 'id="f-answer1-error"' in unanswered.text
        assert "loss</textarea>" in unanswered.text
        asked = await post_form(sam, "/g/grief/join", None, {"answer0": "loss", "answer1": "yes"})
        assert asked.status_code == 303
        assert "waiting for a moderator" in (await sam.get("/g/grief")).text
        assert (await sam.get(f"/g/grief/t/{post.id}")).status_code == 404
        assert (await sam.get("/g/grief/requests")).status_code == 404

        requests = await client.get("/g/grief/requests")
        assert "What brings you here?" in requests.text and "loss" in requests.text
        membership = await Membership.get(actor__username="sam")
        await post_form(
            client, "/g/grief/requests", None,
            {"membership": str(membership.id), "decision": "approve"},
        )  # fmt: skip
        assert "members only words" in (await sam.get(f"/g/grief/t/{post.id}")).text
        assert "was approved" in (await sam.get("/notifications")).text


async def test_home_searches_the_directory(client: httpx.AsyncClient, settings: Settings) -> None:
    await make_group(settings, "recovery")
    await make_group(settings, "grief")
    page = await client.get("/", params={"q": "grie"})
    assert "/g/grief" in page.text and "/g/recovery" not in page.text


async def test_threads_are_newest_active_first(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_account(settings, "lena")
    await make_group(settings, "recovery")
    await log_in(client, "lena")
    await post_form(client, "/g/recovery", "/g/recovery/join", {})
    await post_form(client, "/g/recovery/compose", None, {"body": "first thread"})
    await post_form(client, "/g/recovery/compose", None, {"body": "second thread"})
    first = await Post.get(content__contains="first thread")
    page = (await client.get("/g/recovery")).text
    assert page.index("second thread") < page.index("first thread")
    await post_form(client, f"/g/recovery/t/{first.id}/reply", None, {"body": "bump"})
    page = (await client.get("/g/recovery")).text
    assert page.index("first thread") < page.index("second thread")


async def test_threads_come_in_pages(client: httpx.AsyncClient, settings: Settings) -> None:
    from fedgroups.groups.writing import write_post

    await make_account(settings, "lena")
    group = await make_group(settings, "recovery")
    lena = await Actor.get(username="lena")
    await Membership.create(group=group, actor=lena, state=MembershipState.APPROVED)
    posts = [(await write_post(group, lena, f"thread number {n:02d}")).post for n in range(23)]
    assert posts[0] is not None
    await write_post(group, lena, "a reply", in_reply_to=posts[0].ap_id)
    first = (await client.get("/g/recovery")).text
    assert first.index("thread number 00") < first.index("thread number 22")
    assert "thread number 02" not in first and 'rel="next"' in first
    second = (await client.get("/g/recovery", params={"page": "2"})).text
    assert "thread number 02" in second and "thread number 01" in second
    assert 'rel="next"' not in second and 'rel="prev"' in second
    assert (await client.get("/g/recovery", params={"page": "0"})).status_code == 404


async def test_local_posts_are_served_at_their_ids(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_account(settings, "lena")
    await make_group(settings, "recovery")
    await make_group(settings, "grief", private=True)
    lena = await Actor.get(username="lena")
    await log_in(client, "lena")
    await post_form(client, "/g/recovery", "/g/recovery/join", {})
    await post_form(client, "/g/recovery/compose", None, {"body": "open words", "summary": "cw"})
    grief = await Group.get(slug="grief")
    await Membership.create(group=grief, actor=lena, state=MembershipState.APPROVED)
    await post_form(client, "/g/grief/compose", None, {"body": "closed words"})
    public = await Post.get(group__slug="recovery")
    private = await Post.get(group__slug="grief")
    ap = {"Accept": "application/activity+json"}
    async with new_client(client, settings) as stranger:
        note = await stranger.get(public.ap_id.removeprefix(settings.base_url), headers=ap)
        assert note.status_code == 200
        assert note.json()["content"] == public.content and note.json()["summary"] == "cw"
        page = await stranger.get(public.ap_id.removeprefix(settings.base_url))
        assert page.status_code == 303 and page.headers["location"].startswith("/g/recovery/t/")
        hidden = await stranger.get(private.ap_id.removeprefix(settings.base_url), headers=ap)
        assert hidden.status_code == 404
    mine = await client.get(private.ap_id.removeprefix(settings.base_url), headers=ap)
    assert mine.status_code == 200  # the member's own session may read it


async def test_members_delete_their_own_posts_only(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_account(settings, "lena")
    await make_account(settings, "ben")
    group = await make_group(settings, "recovery")
    remote = await make_remote_actor("https://peer.test")
    await Membership.create(group=group, actor=remote, state=MembershipState.APPROVED)
    await log_in(client, "lena")
    await post_form(client, "/g/recovery", "/g/recovery/join", {})
    await post_form(client, "/g/recovery/compose", None, {"body": "regret this"})
    post = await Post.get()
    async with new_client(client, settings) as ben:
        await log_in(ben, "ben")
        await post_form(ben, "/g/recovery", "/g/recovery/join", {})
        assert (await ben.get(f"/g/recovery/t/{post.id}/delete")).status_code == 404
        assert "/delete" not in (await ben.get(f"/g/recovery/t/{post.id}")).text
    confirm = await client.get(f"/g/recovery/t/{post.id}/delete")
    assert "Delete this post?" in confirm.text
    deleted = await post_form(client, f"/g/recovery/t/{post.id}/delete", None, {})
    assert deleted.status_code == 303
    gone = await Post.get(id=post.id)
    assert gone.deleted_at is not None and gone.content == ""
    assert "regret this" not in (await client.get("/g/recovery")).text
    assert await OutboxActivity.filter(activity_type="Undo").exists()  # the boost withdrawn


async def test_an_open_groups_members_only_posts_are_hidden_from_others(
    app: Starlette, client: httpx.AsyncClient, settings: Settings
) -> None:
    from fedgroups.activitypub.parse import parse_post
    from fedgroups.groups.membership import request_membership
    from fedgroups.groups.posting import receive_post

    await make_account(settings, "lena")
    group = await make_group(settings, "recovery")
    rosa = await make_remote_actor("https://peer.test")
    await request_membership(group, rosa, f"{rosa.ap_id}/follows/1")
    for number, to in (
        (1, [group.actor.ap_id]),
        (2, ["https://www.w3.org/ns/activitystreams#Public"]),
    ):
        note = {
            "id": f"{rosa.ap_id}/statuses/{number}",
            "type": "Note",
            "attributedTo": rosa.ap_id,
            "content": f"<p>words number {number}</p>",
            "to": to,
            "tag": [{"type": "Mention", "href": group.actor.ap_id}],
        }
        assert await receive_post(group, rosa, parse_post(note)) is not None
    hidden = await Post.get(group=group, source_ap_id=f"{rosa.ap_id}/statuses/1")

    anonymous = (await client.get("/g/recovery")).text
    assert "words number 2" in anonymous and "words number 1" not in anonymous
    assert (await client.get(f"/g/recovery/t/{hidden.id}")).status_code == 404
    note_id = hidden.ap_id.removeprefix(settings.base_url)
    assert (
        await client.get(note_id, headers={"Accept": "application/activity+json"})
    ).status_code == 404

    await log_in(client, "lena")
    assert (await post_form(client, "/g/recovery", "/g/recovery/join", {})).status_code == 303
    member_view = (await client.get("/g/recovery")).text
    assert "words number 1" in member_view
    assert (await client.get(f"/g/recovery/t/{hidden.id}")).status_code == 200
