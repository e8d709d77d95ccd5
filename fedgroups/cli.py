"""The `fedgroups` command: migrate, serve, work the queue, and administer accounts, groups, peers.

Every command reads settings once, prints one clear line on bad input and exits non-zero.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NoReturn

import uvloop

from fedgroups import __version__, admin_cli, moderation_commands, queue_commands
from fedgroups.errors import FedgroupsError
from fedgroups.member_commands import MEMBER_COMMANDS, add_member_commands
from fedgroups.settings import Settings

Handler = Callable[[Settings, argparse.Namespace], Awaitable[str | None]]


class _OneLineParser(argparse.ArgumentParser):
    """argparse prints usage plus the error; the contract promises one clear line."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"fedgroups: error: {message} (see '{self.prog} --help')\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="fedgroups", description="Federated support groups over ActivityPub."
    )
    parser.add_argument("--version", action="version", version=f"fedgroups {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("migrate", help="create or upgrade the database schema")

    serve = commands.add_parser("serve", help="run the web app, ActivityPub endpoints and workers")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)

    user = commands.add_parser("user", help="local accounts").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    user_create = user.add_parser("create", help="create a local account")
    user_create.add_argument("name")
    user_create.add_argument("--password", required=True)
    user_create.add_argument("--admin", action="store_true", help="make the account an admin")
    add_member_commands(user)
    admin_cli.add_suspension_commands(user)

    group = commands.add_parser("group", help="groups hosted here").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    group_create = group.add_parser("create", help="create a Group actor")
    group_create.add_argument("slug")
    group_create.add_argument("--name", required=True, help="display name")
    group_create.add_argument(
        "--private", action="store_true", help="members-only: follows need approval"
    )
    group_create.add_argument("--owner", help="local account that owns the group")
    group_create.add_argument("--summary", default="", help="short description")
    group_create.add_argument(
        "--exist-ok", action="store_true", help="succeed quietly if the group already exists"
    )

    for action, verb in (("approve", "approve"), ("reject", "reject")):
        decide = group.add_parser(action, help=f"{verb} a pending follow/join request")
        decide.add_argument("slug")
        decide.add_argument("handle", help="who asked, like alice@example.org")
        moderation_commands.add_ban_options(decide, is_ban=False)  # --by and --reason

    for action, summary in (("ban", "ban someone: Block and Reject sent"), ("unban", "lift a ban")):
        moderate = group.add_parser(action, help=summary)
        moderate.add_argument("slug")
        moderate.add_argument("handle", help="who, like alice@example.org")
        moderation_commands.add_ban_options(moderate, is_ban=action == "ban")
    moderation_commands.add_group_commands(group)
    moderation_commands.add_top_commands(commands)

    worker = commands.add_parser("worker", help="run a standalone delivery/processing worker")
    worker.add_argument("--concurrency", type=int, default=4, help="jobs in flight (default 4)")

    admin_cli.add_domain_commands(commands)
    admin_cli.add_instance_commands(commands)
    return parser


async def _migrate(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.db import migrate

    await migrate(settings)
    return "database is up to date"


async def _user_create(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.accounts import create_account

    account = await create_account(settings, args.name, args.password, is_admin=args.admin)
    await account.fetch_related("actor")
    return f"created account @{account.actor.handle}"


async def _group_create(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.errors import Conflict
    from fedgroups.groups.directory import create_group, find_group

    try:
        group = await create_group(
            settings,
            args.slug,
            args.name,
            is_private=args.private,
            owner_username=args.owner,
            summary=args.summary,
        )
    except Conflict:
        if not args.exist_ok:
            raise
        group = await find_group(args.slug)
        return f"group @{group.actor.handle} already exists"
    await group.fetch_related("actor")
    kind = "members-only group" if group.is_private else "group"
    return f"created {kind} @{group.actor.handle} at {group.actor.ap_id}"


async def _group_decide(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.actors import find_actor_by_handle
    from fedgroups.groups.directory import find_group
    from fedgroups.groups.intake import decide_join_request

    group = await find_group(args.slug)
    actor = await find_actor_by_handle(settings, args.handle)
    approve = args.action == "approve"
    acting = await moderation_commands.acting_for(settings, args, group)
    await decide_join_request(group, actor, approve=approve, acting=acting)
    verdict = "approved" if approve else "rejected"
    return f"{verdict} {actor.handle} in @{group.actor.handle}"


class _UsageError(FedgroupsError):
    """A command that cannot do what was asked."""


_DATABASE_COMMANDS: dict[tuple[str, str | None], Handler] = {
    ("user", "create"): _user_create,
    ("group", "create"): _group_create,
    ("group", "approve"): _group_decide,
    ("group", "reject"): _group_decide,
    ("group", "ban"): moderation_commands.group_ban,
    ("group", "unban"): moderation_commands.group_ban,
    **admin_cli.HANDLERS,
    **MEMBER_COMMANDS,
    **moderation_commands.HANDLERS,
    **queue_commands.HANDLERS,
}


async def _run_with_database(handler: Handler, settings: Settings, args: Any) -> str | None:
    from fedgroups.db import database

    async with database(settings):
        return await handler(settings, args)


def _serve(settings: Settings, args: argparse.Namespace) -> None:
    from fedgroups.server import serve

    serve(settings, host=args.host, port=args.port)


def _worker(settings: Settings, args: argparse.Namespace) -> None:
    from fedgroups.heap import settle_heap
    from fedgroups.worker import run_worker
    from fedgroups.worker_loop import WorkerLoop

    if not 1 <= args.concurrency <= 256:
        raise _UsageError("--concurrency must be between 1 and 256")
    settle_heap()  # the modules just imported live as long as the process
    # uvloop, as uvicorn uses for `serve`: the delivery loop is event-loop bound.
    uvloop.run(run_worker(settings, args.concurrency), loop_factory=WorkerLoop)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = _build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        if args.command == "serve":
            _serve(settings, args)
            return 0
        if args.command == "worker":
            _worker(settings, args)
            return 0
        message: str | None
        if args.command == "migrate":
            message = asyncio.run(_migrate(settings, args))
        else:
            handler = _DATABASE_COMMANDS[(args.command, getattr(args, "action", None))]
            message = asyncio.run(_run_with_database(handler, settings, args))
    except FedgroupsError as exc:
        print(f"fedgroups: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    if message:
        print(message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
