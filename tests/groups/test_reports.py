"""Reports reach a group's moderators and the admins; they are resolved, dismissed, forwarded."""

from __future__ import annotations

import pytest

from fedgroups.errors import Conflict, NotFound, ValidationError
from fedgroups.groups.membership import is_member
from fedgroups.groups.modlog import Acting, log_lines
from fedgroups.groups.reports import (
    Remedy,
    dismiss_report,
    find_report,
    forward_report,
    group_reports,
    instance_reports,
    report_member,
    report_post,
    resolve_report,
)
from fedgroups.models import ModerationAction, Post, ReportState
from fedgroups.settings import Settings
from tests.factories import make_account
from tests.groups.moderation_support import inboxes_of, make_circle, post_by, sent


async def test_a_report_reaches_moderators_and_admins_only(db: None, settings: Settings) -> None:
    circle = await make_circle(settings)
    post = await post_by(circle, circle.rosa, 1)
    assert post is not None
    lena = await make_account(settings, "lena")
    admin = await make_account(settings, "ada", admin=True)
    await lena.fetch_related("actor")
    await admin.fetch_related("actor")
    report = await report_post(lena.actor, post, "  threatening someone  ")
    assert report.comment == "threatening someone"
    assert [r.pk for r in await group_reports(circle.group, circle.owner)] == [report.pk]
    assert [r.pk for r in await instance_reports(admin.actor)] == [report.pk]
    assert (await find_report(report.pk, admin.actor)).pk == report.pk
    for outsider in (lena.actor, circle.rosa, None):  # the reporter, the reported, anyone
        with pytest.raises(NotFound):
            await group_reports(circle.group, outsider)
        with pytest.raises(NotFound):
            await find_report(report.pk, outsider)
    with pytest.raises(NotFound):
        await instance_reports(circle.owner)
    with pytest.raises(ValidationError):
        await report_post(lena.actor, post, "   ")


async def test_nobody_reports_what_they_cannot_read(db: None, settings: Settings) -> None:
    circle = await make_circle(settings, private=True)
    post = await post_by(circle, circle.rosa, 1)
    assert post is not None
    nina = await make_account(settings, "nina")
    await nina.fetch_related("actor")
    with pytest.raises(NotFound):  # T58: a members-only post is not hers to see
        await report_post(nina.actor, post, "x")
    with pytest.raises(NotFound):
        await report_member(nina.actor, circle.group, circle.rosa, "x")
    report = await report_member(circle.mastodon, circle.group, circle.rosa, "scary DMs")
    assert report.reported_actor_id == circle.rosa.pk  # type: ignore[attr-defined]


async def test_resolving_acts_and_logs_and_closes(db: None, settings: Settings) -> None:
    circle = await make_circle(settings)
    post = await post_by(circle, circle.rosa, 1)
    assert post is not None
    report = await report_post(circle.mastodon, post, "spam")
    report = await find_report(report.pk, circle.owner)
    with pytest.raises(ValidationError):
        await resolve_report(report, Remedy(), Acting(moderator=circle.owner))
    acting = Acting(moderator=circle.owner, reason="scam links")
    await resolve_report(report, Remedy(remove_post=True, ban_member=True), acting)
    assert report.state == ReportState.RESOLVED
    assert report.resolution == (
        "The post was removed and the person was banned from the group. scam links"
    )
    assert (await Post.get(pk=post.pk)).deleted_at is not None
    assert not await is_member(circle.group, circle.rosa)
    actions = [entry.action for entry in await log_lines(circle.group)]
    assert actions == [ModerationAction.BAN, ModerationAction.REMOVE_POST]
    with pytest.raises(Conflict):
        await dismiss_report(report, acting)


async def test_dismissing_keeps_the_reporter_out_of_the_log(db: None, settings: Settings) -> None:
    circle = await make_circle(settings)
    report = await report_member(circle.mastodon, circle.group, circle.rosa, "rude")
    await dismiss_report(report, Acting(moderator=circle.owner, reason="a misunderstanding"))
    assert report.state == ReportState.DISMISSED
    assert report.resolution == "No action was needed. a misunderstanding"
    [entry] = await log_lines(circle.group)
    assert (entry.action, entry.subject) == (ModerationAction.DISMISS_REPORT, "")


async def test_forwarding_sends_a_flag_from_the_instance_actor(
    db: None, settings: Settings
) -> None:
    circle = await make_circle(settings, private=True)
    post = await post_by(circle, circle.rosa, 1)
    assert post is not None
    report = await report_post(circle.mastodon, post, "harassing members")
    report = await find_report(report.pk, circle.owner)
    await forward_report(settings, report, Acting(moderator=circle.owner))
    [flag] = await sent("Flag")
    assert flag["actor"] == f"{settings.base_url}/actor"  # never the moderator, never the reporter
    # The member's own post id, which their server knows (not the group's republished Note).
    assert flag["object"] == [circle.rosa.ap_id, f"{circle.rosa.ap_id}/notes/1"]
    assert flag["content"] == "harassing members"
    assert await inboxes_of(flag["id"]) == {"https://peer.test/inbox"}
    with pytest.raises(Conflict):
        await forward_report(settings, report, Acting())
    local = await make_account(settings, "lena")
    await local.fetch_related("actor")
    about_local = await report_member(circle.owner, circle.group, circle.rosa, "x")
    about_local.reported_actor = local.actor
    with pytest.raises(ValidationError):  # nobody else to tell: the person is ours
        await forward_report(settings, about_local, Acting())
