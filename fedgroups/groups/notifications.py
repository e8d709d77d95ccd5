"""Telling local members what concerns them: replies to their posts, mentions, decisions, and
for moderators and admins, reports and posts waiting for review.

Notices are only written for people who may read what they point at (T59: a mention is not a
side door into a members-only group), and the page asks visibility again when showing them.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime

from fedgroups.activitypub.parse import same_origin
from fedgroups.federation.memo import remembered
from fedgroups.groups import visibility
from fedgroups.models import (
    Account,
    Actor,
    Group,
    MembershipRole,
    MembershipState,
    Notification,
    NotificationKind,
    Post,
    Report,
)

PAGE_SIZE = 50


async def _account_of(actor_id: int) -> Account | None:
    return await remembered(
        ("account", actor_id),
        lambda: Account.get_or_none(actor_id=actor_id, actor__is_local=True),
    )


async def notify_post(group: Group, post: Post, mentioned_ap_ids: frozenset[str]) -> None:
    """A stored post: tell the author of the parent (reply) and local people it mentions."""
    told: set[int] = {post.author_id}  # type: ignore[attr-defined]  # never yourself
    if post.in_reply_to:
        parent = await Post.get_or_none(ap_id=post.in_reply_to, group=group, deleted_at=None)
        if parent is not None:
            await _tell(group, post, parent.author_id, NotificationKind.REPLY, told)  # type: ignore[attr-defined]
    ours = _on_origin_of(group, mentioned_ap_ids)
    if ours:
        local = await remembered(
            ("local actors", ours), lambda: Actor.filter(ap_id__in=sorted(ours), is_local=True)
        )
        for actor in local:
            await _tell(group, post, actor.id, NotificationKind.MENTION, told)


def _on_origin_of(group: Group, ap_ids: frozenset[str]) -> frozenset[str]:
    """The ids that could name someone here: those on the group's own origin (not Public,
    nor a remote author's followers)."""
    ours = set()
    for ap_id in ap_ids:
        with suppress(ValueError):  # not a URL at all: nobody here
            if same_origin(ap_id, group.actor.ap_id):
                ours.add(ap_id)
    return frozenset(ours)


async def _tell(
    group: Group, post: Post, actor_id: int, kind: NotificationKind, told: set[int]
) -> None:
    if actor_id in told:
        return
    told.add(actor_id)
    account = await _account_of(actor_id)
    if account is None:
        return
    reader = await Actor.get(id=actor_id)
    if not await visibility.can_read_content(group, reader):
        return
    await Notification.create(
        account=account,
        kind=kind,
        actor_id=post.author_id,  # type: ignore[attr-defined]
        group=group,
        post=post,
    )


async def notify_decision(group: Group, member: Actor, *, approved: bool) -> None:
    """A moderator decided on a local person's request to join."""
    account = await _account_of(member.id)
    if account is None:
        return
    kind = NotificationKind.APPROVED if approved else NotificationKind.REJECTED
    await Notification.create(account=account, kind=kind, group=group)


async def notify_remote_decision(person: Actor, group_actor: Actor, *, approved: bool) -> None:
    """A group on another server answered a local person's request to join."""
    account = await _account_of(person.id)
    if account is None:
        return
    kind = NotificationKind.APPROVED if approved else NotificationKind.REJECTED
    await Notification.create(account=account, kind=kind, actor=group_actor)


async def notify_join_request(group: Group, requester: Actor, moderators: list[Actor]) -> None:
    """Someone asks to join a members-only group: its local moderators are told."""
    for moderator in moderators:
        account = await _account_of(moderator.id)
        if account is not None:
            await Notification.create(
                account=account, kind=NotificationKind.JOIN_REQUEST, actor=requester, group=group
            )


async def _local_moderators(group: Group) -> list[Account]:
    return await Account.filter(
        actor__memberships__group=group,
        actor__memberships__state=MembershipState.APPROVED,
        actor__memberships__role__in=[MembershipRole.MODERATOR, MembershipRole.OWNER],
    )


async def _moderators_and_admins(group: Group | None) -> list[Account]:
    """Who handles a group's reports: its local moderators, and every admin."""
    admins = await Account.filter(is_admin=True, is_suspended=False)
    moderators = await _local_moderators(group) if group is not None else []
    return list({account.pk: account for account in [*admins, *moderators]}.values())


async def notify_report(report: Report) -> None:
    """A new report: the group's local moderators and the admins are told (not the reporter)."""
    reporter_id = report.reporter_id  # type: ignore[attr-defined]
    for account in await _moderators_and_admins(report.group):
        if account.actor_id != reporter_id:  # type: ignore[attr-defined]
            await Notification.create(
                account=account,
                kind=NotificationKind.REPORT,
                actor_id=report.reported_actor_id,  # type: ignore[attr-defined]
                group=report.group,
                report=report,
            )


async def notify_report_outcome(report: Report) -> None:
    """A report was resolved or dismissed: a local reporter is told what was decided."""
    reporter_id = report.reporter_id  # type: ignore[attr-defined]
    account = await _account_of(reporter_id) if reporter_id else None
    if account is not None:
        await Notification.create(
            account=account, kind=NotificationKind.REPORT_OUTCOME, group=report.group, report=report
        )


async def notify_held_post(group: Group, author: Actor) -> None:
    """A post waits for review: the group's local moderators are told (admins see the queue)."""
    for account in await _local_moderators(group):
        await Notification.create(
            account=account, kind=NotificationKind.POST_HELD, actor=author, group=group
        )


@dataclass(frozen=True)
class Notice:
    notification: Notification
    post: Post | None  # None when the reader may no longer see it


async def notices_for(account: Account) -> list[Notice]:
    """The account's latest notifications, each post checked against visibility again."""
    rows = (
        await Notification.filter(account=account)
        .order_by("-id")
        .limit(PAGE_SIZE)
        .select_related("actor", "group", "group__actor", "post", "report")
    )
    notices = []
    for row in rows:
        post = row.post
        if post is not None and (
            post.deleted_at is not None
            or row.group is None
            or not await visibility.can_read_content(row.group, account.actor)
        ):
            post = None
        notices.append(Notice(notification=row, post=post))
    return notices


async def unread_count(account: Account) -> int:
    return await Notification.filter(account=account, read_at=None).count()


async def mark_all_read(account: Account) -> None:
    await Notification.filter(account=account, read_at=None).update(read_at=datetime.now(UTC))
