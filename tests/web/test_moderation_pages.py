"""Moderation in the pages: the moderators' page and its queue, reports from the thread page to
their outcome, rules confirmed before a first post, removals and locks, and the members' log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from fedgroups.activitypub.parse import parse_post
from fedgroups.groups.intake import configure_group
from fedgroups.groups.membership import request_membership
from fedgroups.groups.posting import receive_post
from fedgroups.models import (
    Group,
    HeldPost,
    Membership,
    MembershipState,
    Notification,
    NotificationKind,
    OutboxActivity,
    Post,
    Report,
    ReportState,
)
from fedgroups.settings import Settings
from tests.factories import make_account, make_group, make_remote_actor
from tests.groups.moderation_support import PUBLIC
from tests.web.browsing import log_in, post_form
from tests.web.test_group_pages import new_client


@dataclass
class Scene:
    group: Group
    owner: httpx.AsyncClient  # omar, who owns and moderates the group
    lena: httpx.AsyncClient  # a member
    nina: httpx.AsyncClient  # logged in, not a member


@pytest.fixture
async def scene(client: httpx.AsyncClient, settings: Settings) -> AsyncIterator[Scene]:
    for name in ("omar", "lena", "nina"):
        await make_account(settings, name)
    group = await make_group(settings, "recovery", owner="omar")
    await log_in(client, "omar")
    async with new_client(client, settings) as lena, new_client(client, settings) as nina:
        await log_in(lena, "lena")
        await log_in(nina, "nina")
        assert (await post_form(lena, "/g/recovery", "/g/recovery/join", {})).status_code == 303
        yield Scene(group, client, lena, nina)


async def write(browser: httpx.AsyncClient, body: str, **extra: str) -> httpx.Response:
    return await post_form(browser, "/g/recovery/compose", None, {"body": body, **extra})


async def test_the_moderators_page_is_for_moderators_only(scene: Scene) -> None:
    page = await scene.owner.get("/g/recovery/moderation")
    assert page.status_code == 200 and "Posts waiting for review" in page.text
    assert 'href="/g/recovery/moderation"' in (await scene.owner.get("/g/recovery")).text
    for outsider in (scene.lena, scene.nina):
        assert (await outsider.get("/g/recovery/moderation")).status_code == 404
        forged = await outsider.post("/g/recovery/moderation/bans", data={"handle": "x"})
        assert forged.status_code in (403, 404)
    # The log is the members': lena reads it, nina (no member) gets "not found".
    assert (await scene.lena.get("/g/recovery/log")).status_code == 200
    assert (await scene.nina.get("/g/recovery/log")).status_code == 404


async def test_a_new_members_post_waits_then_is_approved(scene: Scene) -> None:
    saved = await post_form(
        scene.owner, "/g/recovery/moderation", "/g/recovery/moderation/settings",
        {"rules": "", "review_first": "1", "reason": "a quiet start"},
    )  # fmt: skip
    assert saved.status_code == 303
    waiting = await write(scene.lena, "my very first post")
    assert waiting.status_code == 202 and "waits for a moderator" in waiting.text
    assert await Post.all().count() == 0
    held = await HeldPost.get()
    notice = await Notification.get(kind=NotificationKind.POST_HELD)
    assert notice.group_id == scene.group.pk  # type: ignore[attr-defined]
    hub = (await scene.owner.get("/g/recovery/moderation")).text
    assert "my very first post" in hub and "a new member" in hub
    approved = await post_form(
        scene.owner, "/g/recovery/moderation", "/g/recovery/moderation/queue",
        {"held": str(held.id), "decision": "approve", "reason": "welcome"},
    )  # fmt: skip
    assert approved.status_code == 303
    assert "my very first post" in (await Post.get()).content
    assert (await write(scene.lena, "second one")).status_code == 303  # one reviewed: enough
    log = (await scene.lena.get("/g/recovery/log")).text
    assert "post approved" in log and "welcome" in log and "a quiet start" in log


async def test_rules_are_confirmed_before_a_first_post(scene: Scene) -> None:
    await configure_group(scene.group, rules="Be kind.\nNo selling.")
    form = (await scene.lena.get("/g/recovery/compose")).text
    assert "No selling." in form and 'name="confirm_rules"' in form
    refused = await write(scene.lena, "hello")
    assert refused.status_code == 400 and "confirm" in refused.text
    assert (await write(scene.lena, "hello", confirm_rules="1")).status_code == 303
    assert 'name="confirm_rules"' not in (await scene.lena.get("/g/recovery/compose")).text
    assert (await write(scene.owner, "the owner keeps the rules")).status_code == 303


async def test_a_report_reaches_the_moderators_and_its_outcome_the_reporter(
    scene: Scene, settings: Settings
) -> None:
    await make_account(settings, "ada", admin=True)
    assert (await write(scene.owner, "a post that worries someone")).status_code == 303
    post = await Post.get()
    thread = (await scene.lena.get(f"/g/recovery/t/{post.id}")).text
    assert f"/g/recovery/t/{post.id}/report" in thread
    sent = await post_form(
        scene.lena, f"/g/recovery/t/{post.id}/report", None,
        {"about": "post", "comment": "this could hurt people"},
    )  # fmt: skip
    assert sent.status_code == 200 and "Thank you" in sent.text
    report = await Report.get()
    told = await Notification.filter(kind=NotificationKind.REPORT).values_list(
        "account__actor__username", flat=True
    )
    assert sorted(told) == ["ada", "omar"]  # the admin and the moderator, not the reporter
    page = await scene.owner.get(f"/reports/{report.id}")
    assert "this could hurt people" in page.text and "@lena@" in page.text
    assert (await scene.nina.get(f"/reports/{report.id}")).status_code == 404
    resolved = await post_form(
        scene.owner, f"/reports/{report.id}", None, {"action": "remove", "reason": "too raw"}
    )
    assert resolved.status_code == 303
    assert (await Report.get()).state == ReportState.RESOLVED
    assert (await Post.get()).deleted_at is not None
    outcome = (await scene.lena.get("/notifications")).text
    assert "was handled: The post was removed. too raw" in outcome


async def test_moderators_remove_posts_and_lock_threads(scene: Scene) -> None:
    assert (await write(scene.lena, "a thread")).status_code == 303
    root = await Post.get()
    locked = await post_form(
        scene.owner, f"/g/recovery/t/{root.id}", f"/g/recovery/t/{root.id}/lock", {"lock": "1"}
    )
    assert locked.status_code == 303
    thread = (await scene.lena.get(f"/g/recovery/t/{root.id}")).text
    assert "replies are closed" in thread and f"/t/{root.id}/reply" not in thread
    reply = await post_form(
        scene.lena, f"/g/recovery/t/{root.id}/reply", None, {"body": "one more"}
    )
    assert reply.status_code == 400 and "locked" in reply.text
    assert "Remove" not in thread.replace("Removed", "")  # members do not get the button
    confirm = await scene.owner.get(f"/g/recovery/t/{root.id}/remove")
    assert "Remove this post?" in confirm.text
    removed = await post_form(
        scene.owner, f"/g/recovery/t/{root.id}/remove", None, {"reason": "off topic"}
    )
    assert removed.status_code == 303
    assert (await Post.get()).deleted_at is not None
    assert (await scene.lena.get(f"/g/recovery/t/{root.id}/remove")).status_code == 404


async def test_moderators_and_bans_from_the_moderators_page(scene: Scene) -> None:
    appoint = await post_form(
        scene.owner, "/g/recovery/moderation", "/g/recovery/moderation/moderators",
        {"handle": "lena@groups.test", "change": "appoint"},
    )  # fmt: skip
    assert appoint.status_code == 303
    assert (await scene.lena.get("/g/recovery/moderation")).status_code == 200
    banned = await post_form(
        scene.owner, "/g/recovery/moderation", "/g/recovery/moderation/bans",
        {"handle": "lena@groups.test", "change": "ban", "reason": "threats"},
    )  # fmt: skip
    assert banned.status_code == 303
    membership = await Membership.get(actor__username="lena")
    assert membership.state == MembershipState.BANNED and membership.role == "member"
    assert (await scene.lena.get("/g/recovery/moderation")).status_code == 404
    oops = await post_form(
        scene.owner, "/g/recovery/moderation", "/g/recovery/moderation/bans",
        {"handle": "nobody@nowhere.test", "change": "ban"},
    )  # fmt: skip
    assert oops.status_code == 400 and "no known actor" in oops.text


async def test_admins_keep_the_instances_keyword_rules(
    scene: Scene, client: httpx.AsyncClient, settings: Settings
) -> None:
    assert (await scene.owner.get("/admin/keywords")).status_code == 404  # owner, not admin
    await make_account(settings, "ada", admin=True)
    async with new_client(client, settings) as ada:
        await log_in(ada, "ada")
        assert 'href="/admin/keywords"' in (await ada.get("/g/recovery/moderation")).text
        added = await post_form(
            ada, "/admin/keywords", None, {"phrase": "Buy Now", "change": "reject"}
        )
        assert added.status_code == 303
        assert "“buy now”: refused" in (await ada.get("/admin/keywords")).text
        refused = await write(scene.lena, "buy now, cheap", confirm_rules="1")
        assert refused.status_code == 202 and await Post.all().count() == 0
        gone = await post_form(
            ada, "/admin/keywords", None, {"phrase": "buy now", "change": "remove"}
        )
        assert gone.status_code == 303
        missing = await post_form(ada, "/admin/keywords", None, {"phrase": "x", "change": "remove"})
        assert missing.status_code == 400 and "no keyword rule" in missing.text
    assert (await write(scene.lena, "buy now, cheap")).status_code == 303


async def test_a_members_only_groups_questions_are_set_on_the_moderators_page(
    scene: Scene, settings: Settings
) -> None:
    hub = (await scene.owner.get("/g/recovery/moderation")).text
    assert 'name="questions"' not in hub  # an open group asks nothing
    await make_group(settings, "quiet", private=True, owner="omar")
    saved = await post_form(
        scene.owner, "/g/quiet/moderation", "/g/quiet/moderation/settings",
        {"rules": "", "review_first": "0", "questions": "Why here?\n\nWho told you?"},
    )  # fmt: skip
    assert saved.status_code == 303
    quiet = await Group.get(slug="quiet")
    assert quiet.join_questions == ["Why here?", "Who told you?"]
    assert "Who told you?" in (await scene.lena.get("/g/quiet/join")).text
    too_many = "\n".join(f"question {n}" for n in range(6))
    refused = await post_form(
        scene.owner, "/g/quiet/moderation", "/g/quiet/moderation/settings",
        {"rules": "", "review_first": "0", "questions": too_many},
    )  # fmt: skip
    assert refused.status_code == 400 and "at most 5 questions" in refused.text


async def test_a_report_is_forwarded_then_dismissed_from_its_page(scene: Scene) -> None:
    rosa = await make_remote_actor("https://peer.test", "rosa")
    await request_membership(scene.group, rosa, f"{rosa.ap_id}/follows/1")
    body = {
        "id": f"{rosa.ap_id}/notes/1", "type": "Note", "attributedTo": rosa.ap_id,
        "content": "<p>hello</p>", "to": [PUBLIC, scene.group.actor.ap_id],
    }  # fmt: skip
    create = {"id": f"{rosa.ap_id}/create/1", "type": "Create", "actor": rosa.ap_id}
    post = await receive_post(scene.group, rosa, parse_post(body), {**create, "object": body})
    assert post is not None
    reported = await post_form(
        scene.lena, f"/g/recovery/t/{post.id}/report", None,
        {"about": "person", "comment": "odd messages to me"},
    )  # fmt: skip
    assert reported.status_code == 200
    report = await Report.get()
    assert report.post_id is None  # type: ignore[attr-defined]  # about rosa, not the post
    page = f"/reports/{report.id}"
    assert "Send it to peer.test" in (await scene.owner.get(page)).text
    assert (await post_form(scene.owner, page, None, {"action": "forward"})).status_code == 303
    [flag] = await OutboxActivity.filter(activity_type="Flag")
    assert (
        flag.payload["object"] == [rosa.ap_id] and flag.payload["content"] == "odd messages to me"
    )
    assert "Send it to peer.test" not in (await scene.owner.get(page)).text
    dismissed = await post_form(scene.owner, page, None, {"action": "dismiss", "reason": "spoke"})
    assert dismissed.status_code == 303
    assert (await Report.get()).state == ReportState.DISMISSED
    assert (
        "was handled: No action was needed. spoke" in (await scene.lena.get("/notifications")).text
    )
