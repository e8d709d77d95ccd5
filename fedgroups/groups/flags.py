"""Reports from other servers: a Flag naming posts, people or groups here becomes reports.

Mastodon sends `Flag{actor: its instance actor, content, object: [account, statuses...]}`;
Lemmy `Flag{actor: person, summary, object: post}` (federation-interop.md 4.7). Each post
named becomes a report to the moderators of the group carrying it; a person named without
posts, one per group they belong to; the group itself, or a local person in no group, goes to
the admins alone. A server may only report what it could have received (T58).
"""

from __future__ import annotations

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from fedgroups.activitypub.moderation import ParsedFlag
from fedgroups.errors import Conflict
from fedgroups.groups.notifications import notify_report
from fedgroups.models import (
    Actor,
    ActorKind,
    Group,
    Membership,
    MembershipState,
    OutboxActivity,
    Post,
    Report,
)

MAX_GROUPS_PER_PERSON = 10


async def file_remote_report(reporter: Actor, flag: ParsedFlag) -> list[Report]:
    """Store the reports a Flag makes; empty when it names nothing the reporter could see here.

    Conflict when the same Flag came before (replays make no second report).
    """
    if flag.ap_id and await Report.exists(flag_ap_id=flag.ap_id):
        raise Conflict(f"the Flag {flag.ap_id} was filed already")
    posts = [post for post in await _posts_named(flag.objects) if await _may_know(post, reporter)]
    reports = [
        Report(group=post.group, post=post, reported_actor=post.author, reporter=reporter)
        for post in posts
    ]
    covered = {post.author_id for post in posts}  # type: ignore[attr-defined]
    for actor in await Actor.filter(ap_id__in=list(flag.objects)):
        if actor.pk not in covered:
            reports += await _about_person(actor, reporter)
    for report in reports:
        report.comment = flag.comment
        report.flag_ap_id = flag.ap_id
    async with in_transaction():
        for report in reports:
            await report.save()
            await notify_report(report)
    return reports


async def _posts_named(ids: tuple[str, ...]) -> list[Post]:
    """Posts named by their id, the member's own id (members-only groups) or our boost of them
    (Mastodon reports a boost by the id of the group's Announce)."""
    named = list(ids)
    boosts = await OutboxActivity.filter(
        ap_id__in=named, activity_type="Announce", group_id__isnull=False
    ).values_list("group_id", "object_ap_id")
    query = Q(ap_id__in=named) | Q(source_ap_id__in=named)
    for group_id, object_ap_id in boosts:
        query |= Q(group_id=group_id, ap_id=object_ap_id)
    posts = await Post.filter(query, deleted_at=None).select_related(
        "group", "group__actor", "author"
    )
    return list({post.pk: post for post in posts}.values())


async def _may_know(post: Post, reporter: Actor) -> bool:
    return await _may_know_group(post.group, reporter)


async def _may_know_group(group: Group, reporter: Actor) -> bool:
    """A members-only group's content reached only its members' servers."""
    if not group.is_private:
        return True
    return await Membership.exists(
        group=group, state=MembershipState.APPROVED, actor__domain=reporter.domain
    )


async def _about_person(actor: Actor, reporter: Actor) -> list[Report]:
    """A person (or one of our groups) named without any of their posts."""
    if actor.is_local and actor.kind == ActorKind.GROUP:
        # A complaint about the group itself is for the instance admins.
        return [Report(group=None, reported_actor=actor, reporter=reporter)]
    groups = await Group.filter(
        memberships__actor=actor, memberships__state=MembershipState.APPROVED
    ).limit(MAX_GROUPS_PER_PERSON)
    reports = [
        Report(group=group, reported_actor=actor, reporter=reporter)
        for group in groups
        if await _may_know_group(group, reporter)
    ]
    if not reports and actor.is_local:
        reports.append(Report(group=None, reported_actor=actor, reporter=reporter))
    return reports
