"""Reports: people here or on other servers tell a group's moderators and the admins about harm.

A report names a post or a person in a group. It reaches that group's moderators and every
instance admin; a moderator resolves it with an action (remove the post, ban the person) or
dismisses it, and may forward it to the author's server as a Flag from the instance actor, so
the person's own admins can act too (Mastodon's shape, federation-interop.md 4.7).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from fedgroups.activitypub.moderation import MAX_REPORT_COMMENT, render_flag
from fedgroups.errors import Conflict, NotFound, ValidationError
from fedgroups.groups import visibility
from fedgroups.groups.actors import ensure_instance_actor
from fedgroups.groups.moderation import ban, remove_post
from fedgroups.groups.modlog import Acting, record
from fedgroups.groups.notifications import notify_report, notify_report_outcome
from fedgroups.groups.outbox import new_activity_id, publish
from fedgroups.models import (
    Actor,
    Group,
    Membership,
    MembershipState,
    ModerationAction,
    Post,
    Report,
    ReportState,
)
from fedgroups.settings import Settings

PAGE_SIZE = 100


def _comment(text: str) -> str:
    comment = text.strip()[:MAX_REPORT_COMMENT]
    if not comment:
        raise ValidationError("Say what is wrong, so the moderators know what to look at.")
    return comment


async def report_post(reporter: Actor, post: Post, comment: str) -> Report:
    """A local person reports a post they can read (T58: never one they cannot)."""
    await post.fetch_related("group", "group__actor", "author")
    if post.deleted_at is not None or not await visibility.can_read_content(post.group, reporter):
        raise NotFound("no such post")
    async with in_transaction():
        report = await Report.create(
            group=post.group,
            reporter=reporter,
            post=post,
            reported_actor=post.author,
            comment=_comment(comment),
        )
        await notify_report(report)
    return report


async def report_member(reporter: Actor, group: Group, member: Actor, comment: str) -> Report:
    """A local person reports someone in a group whose members they may know of."""
    known = await visibility.can_read_content(group, reporter) and await Membership.exists(
        group=group, actor=member, state=MembershipState.APPROVED
    )
    if not known:
        raise NotFound("no such member")
    async with in_transaction():
        report = await Report.create(
            group=group, reporter=reporter, reported_actor=member, comment=_comment(comment)
        )
        await notify_report(report)
    return report


async def group_reports(
    group: Group, viewer: visibility.Viewer, *, state: ReportState = ReportState.OPEN
) -> list[Report]:
    """A group's reports for its moderators and the admins; NotFound for anyone else."""
    if not await visibility.can_moderate(group, viewer):
        raise NotFound("no such group")
    return await listed_reports(group, state=state)


async def instance_reports(
    viewer: visibility.Viewer, *, state: ReportState = ReportState.OPEN
) -> list[Report]:
    """Every report on the instance, for admins only."""
    if not await visibility.is_instance_admin(viewer):
        raise NotFound("no such page")
    return await listed_reports(None, state=state)


async def listed_reports(
    group: Group | None, *, state: ReportState = ReportState.OPEN
) -> list[Report]:
    """Newest first: one group's, or (None) the whole instance's. The caller checked who asks."""
    rows: QuerySet[Report] = Report.filter(state=state)
    if group is not None:
        rows = rows.filter(group=group)
    return list(await rows.order_by("-id").limit(PAGE_SIZE).select_related(*_RELATED))


_RELATED = ("group", "group__actor", "reporter", "reported_actor", "post", "post__author")


async def find_report(report_id: int, viewer: visibility.Viewer) -> Report:
    """A report the viewer may handle: moderators of its group, or an admin."""
    report = await report_by_id(report_id)
    allowed = await visibility.is_instance_admin(viewer) or (
        report.group is not None and await visibility.can_moderate(report.group, viewer)
    )
    if not allowed:
        raise NotFound("no such report")
    return report


async def report_by_id(report_id: int) -> Report:
    """Any report (the command line acts as the instance admin)."""
    report = await Report.get_or_none(id=report_id).select_related(*_RELATED)
    if report is None:
        raise NotFound(f"no report #{report_id}")
    return report


@dataclass(frozen=True)
class Remedy:
    """What a moderator does about a report."""

    remove_post: bool = False
    ban_member: bool = False

    @property
    def outcome(self) -> str:
        done = []
        if self.remove_post:
            done.append("the post was removed")
        if self.ban_member:
            done.append("the person was banned from the group")
        return " and ".join(done).capitalize() + "."


async def resolve_report(report: Report, remedy: Remedy, acting: Acting) -> Report:
    """Act on a report: the actions are logged as usual, the report closed with its outcome."""
    _still_open(report)
    if not remedy.remove_post and not remedy.ban_member:
        raise ValidationError("Choose an action, or dismiss the report.")
    group = report.group
    if group is None:
        raise ValidationError("This report names nothing a group carries: nothing to remove.")
    await group.fetch_related("actor")
    async with in_transaction():
        if remedy.remove_post:
            if report.post is None or report.post.deleted_at is not None:
                raise ValidationError("There is no post to remove.")
            await report.post.fetch_related("author")
            await remove_post(group, report.post, acting)
        if remedy.ban_member:
            if report.reported_actor is None:
                raise ValidationError("There is nobody to ban.")
            await ban(group, report.reported_actor, acting)
        await _close(report, ReportState.RESOLVED, remedy.outcome, acting)
    return report


async def dismiss_report(report: Report, acting: Acting) -> Report:
    """Nothing needed doing; the reporter is told so."""
    _still_open(report)
    async with in_transaction():
        await _close(report, ReportState.DISMISSED, "No action was needed.", acting)
        # The log says a report was dismissed, never who reported whom.
        await record(report.group, ModerationAction.DISMISS_REPORT, acting)
    return report


def _still_open(report: Report) -> None:
    if report.state != ReportState.OPEN:
        raise Conflict("this report was already handled")


async def _close(report: Report, state: ReportState, outcome: str, acting: Acting) -> None:
    report.state = state
    reason = acting.cleaned_reason
    report.resolution = f"{outcome} {reason}".strip() if reason else outcome
    report.resolved_by = acting.moderator
    report.resolved_at = datetime.now(UTC)
    await report.save(update_fields=["state", "resolution", "resolved_by_id", "resolved_at"])
    await notify_report_outcome(report)


async def forward_report(settings: Settings, report: Report, acting: Acting) -> None:
    """Send the report to the reported person's server as a Flag from our instance actor.

    Only the comment and what was named travel: not who reported, not who forwarded.
    """
    target = report.reported_actor
    if target is None or target.is_local:
        raise ValidationError("Only reports about people on other servers can be forwarded.")
    if report.forwarded_at is not None:
        raise Conflict("this report was already forwarded")
    named = [target.ap_id]
    if report.post is not None:
        named.append(report.post.source_ap_id or report.post.ap_id)
    instance = await ensure_instance_actor(settings)
    flag = render_flag(new_activity_id(instance), instance.ap_id, named, report.comment)
    async with in_transaction():
        await publish(instance, flag, [target], object_ap_id=target.ap_id, is_public=False)
        report.forwarded_at = datetime.now(UTC)
        await report.save(update_fields=["forwarded_at"])
        await record(report.group, ModerationAction.FORWARD_REPORT, acting)
