"""Commands for what moderators work through: the review queue, posts, keyword rules, reports."""

from __future__ import annotations

import argparse

from fedgroups.errors import NotFound
from fedgroups.moderation_commands import Handler, acting_for
from fedgroups.settings import Settings

EXCERPT = 70


def _excerpt(html: str) -> str:
    from fedgroups.groups.content import words_of

    words = words_of(html)
    return words if len(words) <= EXCERPT else words[: EXCERPT - 1] + "…"


async def _post_queue(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.directory import find_group
    from fedgroups.groups.review import held_posts

    group = await find_group(args.slug)
    held = await held_posts(group)
    if not held:
        return f"nothing waits for review in @{group.actor.handle}"
    return "\n".join(
        f"#{post.id}\t{post.author.handle}\t{post.reason}\t{_excerpt(post.content)}"
        for post in held
    )


def _queue_number(target: str) -> int:
    number = target.lstrip("#")
    if not number.isdigit():
        raise NotFound(f"{target!r} is not a queue number (see 'fedgroups post queue SLUG')")
    return int(number)


async def _post_decide(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.directory import find_group
    from fedgroups.groups.review import approve_held_post, find_held_post, reject_held_post

    group = await find_group(args.slug)
    held = await find_held_post(group, _queue_number(args.target))
    acting = await acting_for(settings, args, group)
    if args.action == "approve":
        post = await approve_held_post(group, held, acting)
        return f"published {post.source_ap_id or post.ap_id} in @{group.actor.handle}"
    await reject_held_post(group, held, acting)
    return f"rejected #{held.id} by {held.author.handle}"


async def _post_act(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.directory import find_group
    from fedgroups.groups.moderation import find_post, lock_thread, remove_post, unlock_thread

    group = await find_group(args.slug)
    post = await find_post(group, args.target)
    acting = await acting_for(settings, args, group)
    if args.action == "remove":
        await remove_post(group, post, acting)
        return f"removed {args.target} from @{group.actor.handle}"
    if args.action == "lock":
        root = await lock_thread(group, post, acting)
        return f"locked the thread {root.ap_id}"
    root = await unlock_thread(group, post, acting)
    return f"unlocked the thread {root.ap_id}"


async def _keyword(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.directory import find_group
    from fedgroups.groups.modlog import ADMIN
    from fedgroups.groups.screening import add_keyword, keyword_rules, remove_keyword
    from fedgroups.models import KeywordAction

    group = await find_group(args.group) if args.group else None
    where = f"@{group.actor.handle}" if group is not None else "every group"
    if args.action == "add":
        action = KeywordAction.REJECT if args.reject else KeywordAction.HOLD
        rule = await add_keyword(group, args.phrase, action, ADMIN)
        verdict = "refused" if action == KeywordAction.REJECT else "held for review"
        return f'posts saying "{rule.phrase}" are now {verdict} in {where}'
    if args.action == "remove":
        await remove_keyword(group, args.phrase, ADMIN)
        return f'removed the keyword rule "{args.phrase}" from {where}'
    rules = await keyword_rules(group)
    if not rules:
        return f"no keyword rules for {where}"
    return "\n".join(f"{rule.action.value}\t{rule.phrase}" for rule in rules)


async def _report_list(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.directory import find_group
    from fedgroups.groups.reports import listed_reports
    from fedgroups.models import ReportState

    group = await find_group(args.group) if args.group else None
    reports = await listed_reports(group, state=ReportState(args.state))
    if not reports:
        return f"no {args.state} reports"
    lines = []
    for report in reports:
        place = f"@{report.group.slug}" if report.group is not None else "(admins)"
        about = report.post.ap_id if report.post is not None else ""
        who = report.reported_actor.handle if report.reported_actor is not None else ""
        by = report.reporter.handle if report.reporter is not None else ""
        comment = " ".join(report.comment.split())[:EXCERPT]
        lines.append(f"#{report.id}\t{place}\t{who}\t{about}\tfrom {by}\t{comment}".rstrip())
    return "\n".join(lines)


async def _report_handle(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.reports import (
        Remedy,
        dismiss_report,
        forward_report,
        report_by_id,
        resolve_report,
    )

    report = await report_by_id(args.id)
    acting = await acting_for(settings, args, report.group)
    if args.action == "resolve":
        remedy = Remedy(remove_post=args.remove_post, ban_member=args.ban)
        await resolve_report(report, remedy, acting)
        return f"resolved report #{report.id}: {report.resolution}"
    if args.action == "dismiss":
        await dismiss_report(report, acting)
        return f"dismissed report #{report.id}"
    await forward_report(settings, report, acting)
    assert report.reported_actor is not None
    return f"forwarded report #{report.id} to {report.reported_actor.domain}"


HANDLERS: dict[tuple[str, str | None], Handler] = {
    ("post", "queue"): _post_queue,
    ("post", "approve"): _post_decide,
    ("post", "reject"): _post_decide,
    ("post", "remove"): _post_act,
    ("post", "lock"): _post_act,
    ("post", "unlock"): _post_act,
    ("keyword", "add"): _keyword,
    ("keyword", "remove"): _keyword,
    ("keyword", "list"): _keyword,
    ("report", "list"): _report_list,
    ("report", "resolve"): _report_handle,
    ("report", "dismiss"): _report_handle,
    ("report", "forward"): _report_handle,
}
