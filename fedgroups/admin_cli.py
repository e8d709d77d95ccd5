"""`fedgroups domain …`, `fedgroups instance …` and `fedgroups user suspend|unsuspend`: the
instance admin's commands.

Blocks (suspend or limit), the allowlist and cautious mode's questions, the federation and
registration modes, suspensions, and what admins read: federation health per peer domain,
the dashboard figures and the admins' log.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fedgroups.errors import FedgroupsError
from fedgroups.settings import Settings

Handler = Callable[[Settings, argparse.Namespace], Awaitable[str | None]]


class UsageError(FedgroupsError):
    """A command that cannot do what was asked."""


def add_domain_commands(commands: Any) -> None:
    domain = commands.add_parser(
        "domain", help="instance-level federation: blocks, allows, health"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    block = domain.add_parser("block", help="stop (suspend) or restrict (limit) a domain")
    block.add_argument("domain", help="host, or host:port")
    block.add_argument("--reason", default="", help="shown to members it cuts off")
    block.add_argument(
        "--severity",
        choices=["suspend", "limit"],
        default="suspend",
        help="suspend: refuse everything (default); limit: accept, hide, hold posts for review",
    )
    domain.add_parser("unblock", help="lift a block").add_argument("domain")
    domain.add_parser("list", help="list blocked domains: domain, severity, reason")
    allow = domain.add_parser("allow", help="trust a domain (allowlist, cautious mode's yes)")
    allow.add_argument("domain")
    allow.add_argument("--reason", default="")
    deny = domain.add_parser("deny", help="cautious mode's no: drop what waits, suspend it")
    deny.add_argument("domain")
    deny.add_argument("--reason", default="", help="shown to members it cuts off")
    domain.add_parser("disallow", help="take a domain off the allowlist").add_argument("domain")
    domain.add_parser("allowed", help="list allowed domains")
    domain.add_parser("pending", help="domains waiting for an admin's yes (cautious mode)")
    health = domain.add_parser("health", help="federation health per peer domain")
    health.add_argument("domain", nargs="?", help="one domain only")


def add_instance_commands(commands: Any) -> None:
    instance = commands.add_parser("instance", help="instance settings and figures").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    mode = instance.add_parser("mode", help="show or set the federation mode")
    mode.add_argument("mode", nargs="?", choices=["open", "allowlist", "cautious"])
    instance.add_parser("status", help="the dashboard figures: accounts, groups, queues")
    registrations = instance.add_parser("registrations", help="show or set who may sign up")
    registrations.add_argument("mode", nargs="?", choices=["open", "approval", "closed"])
    instance.add_parser("log", help="the admins' log: blocks, modes, suspensions")


def add_suspension_commands(user: Any) -> None:
    """`user suspend|unsuspend NAME [--reason TEXT]`, added to the `user` subparsers."""
    for action, summary in (
        ("suspend", "suspend a local account: no login, sessions ended, no posting"),
        ("unsuspend", "lift a suspension"),
    ):
        command = user.add_parser(action, help=summary)
        command.add_argument("name", help="local account")
        command.add_argument("--reason", default="", help="kept in the admins' log")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else "-"


async def _block(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.domains import block_domain
    from fedgroups.models import BlockSeverity

    block = await block_domain(
        args.domain, reason=args.reason, severity=BlockSeverity(args.severity)
    )
    verb = "blocked" if block.severity == BlockSeverity.SUSPEND else "limited"
    return f"{verb} {block.domain}"


async def _unblock(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.domains import normalise_domain, unblock_domain

    if not await unblock_domain(args.domain):
        raise UsageError(f"{normalise_domain(args.domain)} was not blocked")
    return f"unblocked {normalise_domain(args.domain)}"


async def _list(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.domains import list_blocks

    blocks = await list_blocks()
    if not blocks:
        return "no blocked domains"
    return "\n".join(
        f"{block.domain}\t{block.severity.value}\t{block.reason}".rstrip() for block in blocks
    )


async def _allow(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.domains import allow_domain
    from fedgroups.models.domain import refused_domains

    allow = await allow_domain(args.domain, reason=args.reason)
    if await refused_domains([allow.domain]):
        return f"allowed {allow.domain}, but it stays blocked until `domain unblock`"
    return f"allowed {allow.domain}"


async def _deny(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.domains import deny_domain

    block = await deny_domain(args.domain, reason=args.reason)
    return f"denied {block.domain}: what it sent is dropped and it is blocked"


async def _disallow(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.domains import disallow_domain, normalise_domain

    await disallow_domain(args.domain)
    return f"{normalise_domain(args.domain)} is no longer allowed"


async def _allowed(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.domains import list_allows

    allows = await list_allows()
    if not allows:
        return "no allowed domains"
    return "\n".join(f"{allow.domain}\t{allow.reason}".rstrip() for allow in allows)


async def _pending(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.federation_mode import pending_domains

    pending = await pending_domains()
    if not pending:
        return "no domain is waiting"
    return "\n".join(
        f"{row.domain}\t{row.activities} waiting since {_when(row.first_at)}\t"
        + " ".join(row.actors)
        for row in pending
    )


async def _health(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.domains import normalise_domain
    from fedgroups.groups.instance_health import peer_health

    domain = normalise_domain(args.domain) if args.domain else None
    rows = await peer_health(domain)
    if not rows:
        return "no peer domains known yet"
    header = "domain\tstanding\tsoftware\tlast success\tfailures\twaiting\tpaused\tfailed\theld"
    lines = [
        "\t".join(
            [
                row.domain,
                row.standing.value
                + (
                    f" (down since {_when(row.unavailable_since)})" if row.unavailable_since else ""
                ),
                row.software or "?",
                _when(row.last_success_at),
                str(row.consecutive_failures),
                str(row.deliveries_waiting),
                str(row.deliveries_paused),
                str(row.deliveries_failed),
                str(row.inbox_held),
            ]
        )
        for row in rows
    ]
    return "\n".join([header, *lines])


async def _mode(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.federation_mode import (
        federation_mode,
        parse_federation_mode,
        set_federation_mode,
    )

    if args.mode is None:
        return f"federation mode: {(await federation_mode()).value}"
    mode = parse_federation_mode(args.mode)
    previous = await set_federation_mode(mode)
    if previous == mode:
        return f"federation mode is already {mode.value}"
    return f"federation mode: {mode.value} (was {previous.value})"


async def _status(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.instance_health import dashboard

    figures = await dashboard()
    return "\n".join(
        f"{name}\t{value}"
        for name, value in [
            ("accounts", figures.accounts),
            ("suspended accounts", figures.suspended_accounts),
            ("groups", figures.groups),
            ("posts", figures.posts),
            ("inbox waiting", figures.inbox_waiting),
            ("inbox held (cautious mode)", figures.inbox_held),
            ("inbox failed (last day)", figures.inbox_failed_recently),
            ("deliveries waiting", figures.deliveries_waiting),
            ("deliveries retrying", figures.deliveries_retrying),
            ("deliveries paused", figures.deliveries_paused),
            ("deliveries failed (last day)", figures.deliveries_failed_recently),
            ("peers unavailable", figures.peers_unavailable),
            ("federation mode", figures.federation_mode.value),
        ]
    )


async def _registrations(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.registrations import (
        parse_registration_mode,
        registration_mode,
        set_registration_mode,
    )

    if args.mode is None:
        return f"registrations: {(await registration_mode(settings)).value}"
    mode = parse_registration_mode(args.mode)
    previous = await set_registration_mode(settings, mode)
    if previous == mode:
        return f"registrations are already {mode.value}"
    return f"registrations: {mode.value} (was {previous.value})"


async def _log(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.admin_log import admin_log

    lines = await admin_log()
    if not lines:
        return "the admins' log is empty"
    return "\n".join(
        "\t".join(
            [_when(line.at), line.by, line.action.value, line.subject or line.object_ap_id]
            + ([line.reason] if line.reason else [])
        )
        for line in lines
    )


async def _suspend(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.accounts import find_account
    from fedgroups.groups.suspensions import suspend_account, unsuspend_account

    account = await find_account(settings, args.name)
    if args.action == "suspend":
        await suspend_account(account, reason=args.reason)
        return f"suspended @{account.actor.username}: logged out, cannot log in or post"
    await unsuspend_account(account, reason=args.reason)
    return f"@{account.actor.username} is no longer suspended"


HANDLERS: dict[tuple[str, str | None], Handler] = {
    ("domain", "block"): _block,
    ("domain", "unblock"): _unblock,
    ("domain", "list"): _list,
    ("domain", "allow"): _allow,
    ("domain", "deny"): _deny,
    ("domain", "disallow"): _disallow,
    ("domain", "allowed"): _allowed,
    ("domain", "pending"): _pending,
    ("domain", "health"): _health,
    ("instance", "mode"): _mode,
    ("instance", "status"): _status,
    ("instance", "registrations"): _registrations,
    ("instance", "log"): _log,
    ("user", "suspend"): _suspend,
    ("user", "unsuspend"): _suspend,
}
