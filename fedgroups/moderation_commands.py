"""The moderation commands of `fedgroups`: moderators, rules, the review queue, posts, bans,
keyword rules, reports and the moderation log. Each calls the service the web pages use.

`--by NAME` records which local moderator acted; without it the instance admin at the command
line did, and the log says so.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fedgroups.errors import ValidationError
from fedgroups.settings import Settings

Handler = Callable[[Settings, argparse.Namespace], Awaitable[str | None]]
Subparsers = Any  # argparse's private _SubParsersAction


def _by(parser: argparse.ArgumentParser, *, reason: bool = True) -> None:
    parser.add_argument("--by", metavar="NAME", help="the local moderator acting")
    if reason:
        parser.add_argument("--reason", default="", help="shown in the moderation log")


def add_group_commands(group: Subparsers) -> None:
    """`fedgroups group moderator|configure|log`, and the options of `ban`/`unban`."""
    moderator = group.add_parser("moderator", help="appoint or dismiss moderators")
    actions = moderator.add_subparsers(dest="moderator_action", required=True, metavar="ACTION")
    for action, summary in (("add", "make a member a moderator"), ("remove", "dismiss one")):
        change = actions.add_parser(action, help=summary)
        change.add_argument("slug")
        change.add_argument("handle", help="who, like alice@example.org")
        _by(change, reason=False)
    configure = group.add_parser("configure", help="set a group's rules and pre-moderation")
    configure.add_argument("slug")
    rules = configure.add_mutually_exclusive_group()
    rules.add_argument("--rules", help="the rules, as plain text (one per line)")
    rules.add_argument("--rules-file", type=Path, help="read the rules from this file")
    configure.add_argument(
        "--review-first", type=int, metavar="N", help="hold a new member's first N posts (0: off)"
    )
    questions = configure.add_mutually_exclusive_group()
    questions.add_argument(
        "--question", action="append", metavar="TEXT", help="a join question (repeat for more)"
    )
    questions.add_argument("--no-questions", action="store_true", help="ask no join questions")
    _by(configure)
    requests = group.add_parser("requests", help="pending requests to join, with their answers")
    requests.add_argument("slug")
    log = group.add_parser("log", help="the group's moderation log, newest first")
    log.add_argument("slug")
    log.add_argument("--page", type=int, default=1)


def add_ban_options(parser: argparse.ArgumentParser, *, is_ban: bool) -> None:
    _by(parser)
    if is_ban:
        parser.add_argument(
            "--remove-posts", action="store_true", help="also remove what they posted there"
        )


def add_top_commands(commands: Subparsers) -> None:
    """`fedgroups post ...`, `fedgroups keyword ...` and `fedgroups report ...`."""
    post = commands.add_parser("post", help="posts in groups: the review queue, removals, locks")
    posts = post.add_subparsers(dest="action", required=True, metavar="ACTION")
    queue = posts.add_parser("queue", help="posts waiting for review in a group")
    queue.add_argument("slug")
    for action, summary, what in (
        ("approve", "publish a held post", "ID"),
        ("reject", "drop a held post", "ID"),
        ("remove", "remove a post from the group", "POST_ID"),
        ("lock", "lock the thread a post is in", "POST_ID"),
        ("unlock", "unlock a thread", "POST_ID"),
    ):
        act = posts.add_parser(action, help=summary)
        act.add_argument("slug")
        act.add_argument("target", metavar=what, help="queue number, or the post's id (URL)")
        _by(act)

    keyword = commands.add_parser("keyword", help="words that hold or reject posts")
    keywords = keyword.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = keywords.add_parser("add", help="hold (or --reject) posts containing a phrase")
    add.add_argument("phrase")
    add.add_argument("--reject", action="store_true", help="refuse such posts outright")
    remove = keywords.add_parser("remove", help="drop a keyword rule")
    remove.add_argument("phrase")
    listing = keywords.add_parser("list", help="list keyword rules")
    for parser in (add, remove, listing):
        parser.add_argument("--group", metavar="SLUG", help="one group (default: every group)")

    report = commands.add_parser("report", help="reports to moderators and admins")
    reports = report.add_subparsers(dest="action", required=True, metavar="ACTION")
    listed = reports.add_parser("list", help="reports, newest first")
    listed.add_argument("--group", metavar="SLUG")
    listed.add_argument("--state", choices=["open", "resolved", "dismissed"], default="open")
    resolve = reports.add_parser("resolve", help="act on a report")
    resolve.add_argument("id", type=int)
    resolve.add_argument("--remove-post", action="store_true")
    resolve.add_argument("--ban", action="store_true", help="ban the person reported")
    _by(resolve)
    dismiss = reports.add_parser("dismiss", help="close a report: nothing needed doing")
    dismiss.add_argument("id", type=int)
    _by(dismiss)
    forward = reports.add_parser("forward", help="send it to the reported person's server")
    forward.add_argument("id", type=int)
    _by(forward, reason=False)


async def acting_for(settings: Settings, args: argparse.Namespace, group: Any | None) -> Any:
    """Who acts: `--by NAME` must moderate the group (or be an admin)."""
    from fedgroups.groups import visibility
    from fedgroups.groups.actors import find_local_actor
    from fedgroups.groups.modlog import Acting

    reason = getattr(args, "reason", "")
    if not args.by:
        return Acting(reason=reason)
    actor = await find_local_actor(settings, args.by)
    allowed = (
        await visibility.can_moderate(group, actor)
        if group is not None
        else await visibility.is_instance_admin(actor)
    )
    if not allowed:
        where = f"@{group.slug}" if group is not None else "this instance"
        raise ValidationError(f"{args.by} does not moderate {where}")
    return Acting(moderator=actor, reason=reason)


async def _group_moderator(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.actors import find_actor_by_handle
    from fedgroups.groups.directory import find_group
    from fedgroups.groups.moderators import appoint_moderator, dismiss_moderator

    group = await find_group(args.slug)
    actor = await find_actor_by_handle(settings, args.handle)
    acting = await acting_for(settings, args, group)
    if args.moderator_action == "add":
        await appoint_moderator(group, actor, acting)
        return f"{actor.handle} now moderates @{group.actor.handle}"
    await dismiss_moderator(group, actor, acting)
    return f"{actor.handle} no longer moderates @{group.actor.handle}"


async def _group_configure(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.directory import find_group
    from fedgroups.groups.intake import configure_group

    group = await find_group(args.slug)
    rules = args.rules
    if args.rules_file is not None:
        try:
            rules = args.rules_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(f"cannot read {args.rules_file}: {exc}") from None
    acting = await acting_for(settings, args, group)
    questions = [] if args.no_questions else args.question
    await configure_group(
        group, acting, rules=rules, review_first_posts=args.review_first, join_questions=questions
    )
    held = group.review_first_posts
    review = f"first {held} posts of new members reviewed" if held else "no pre-moderation"
    rule_count = len([line for line in group.rules.splitlines() if line.strip()])
    asked = len(group.join_questions or [])
    return f"@{group.actor.handle}: {rule_count} rule lines, {asked} join questions, {review}"


async def _group_requests(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.directory import find_group
    from fedgroups.groups.stewardship import pending_requests

    group = await find_group(args.slug)
    waiting = await pending_requests(group)
    if not waiting:
        return f"nobody waits to join @{group.actor.handle}"
    lines = []
    for membership in waiting:
        answers = " | ".join(f"{q}: {a}" for q, a in membership.join_answers or [])
        asked = membership.created_at.strftime("%Y-%m-%d %H:%M")
        lines.append(f"{membership.actor.handle}\t{asked}\t{answers}".rstrip())
    return "\n".join(lines)


async def _group_log(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.directory import find_group
    from fedgroups.groups.modlog import log_lines

    group = await find_group(args.slug)
    lines = await log_lines(group, page=args.page)
    if not lines:
        return f"nothing in the moderation log of @{group.actor.handle}"
    return "\n".join(
        "\t".join(
            (line.at.strftime("%Y-%m-%d %H:%M"), line.by, line.action.value, line.subject,
             line.object_ap_id, line.reason)
        ).rstrip()
        for line in lines
    )  # fmt: skip


async def group_ban(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.actors import find_actor_by_handle
    from fedgroups.groups.directory import find_group
    from fedgroups.groups.moderation import ban, unban

    group = await find_group(args.slug)
    actor = await find_actor_by_handle(settings, args.handle)
    acting = await acting_for(settings, args, group)
    if args.action == "ban":
        await ban(group, actor, acting, remove_posts=args.remove_posts)
        return f"banned {actor.handle} from @{group.actor.handle}"
    await unban(group, actor, acting)
    return f"lifted the ban on {actor.handle} in @{group.actor.handle}"


HANDLERS: dict[tuple[str, str | None], Handler] = {
    ("group", "moderator"): _group_moderator,
    ("group", "configure"): _group_configure,
    ("group", "requests"): _group_requests,
    ("group", "log"): _group_log,
}
