"""`fedgroups user follow|unfollow|following|post|edit-post|delete-post`: a local person taking
part in groups hosted on other servers, from the command line.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from fedgroups.settings import Settings

if TYPE_CHECKING:  # imported lazily, like every command's dependencies: start-up stays fast
    from fedgroups.federation.context import Federation
    from fedgroups.models import Actor

Handler = Callable[[Settings, argparse.Namespace], Awaitable[str | None]]


def add_member_commands(user: Any) -> None:
    """Add the member subcommands to the `user` subparsers."""
    follow = user.add_parser("follow", help="ask to join a group on another server")
    follow.add_argument("name", help="local account")
    follow.add_argument("handle", help="the group, like recovery@groups.example, or its URL")
    unfollow = user.add_parser("unfollow", help="leave a group on another server")
    unfollow.add_argument("name")
    unfollow.add_argument("handle")
    following = user.add_parser("following", help="groups elsewhere the account follows")
    following.add_argument("name")
    post = user.add_parser("post", help="post to a group on another server; prints the post id")
    post.add_argument("name")
    post.add_argument("handle", help="the group")
    post.add_argument("text", help="the post, in Markdown")
    post.add_argument("--summary", default="", help="content warning shown before the text")
    post.add_argument("--reply-to", default="", help="id (URL) of the post to reply to")
    edit = user.add_parser("edit-post", help="change the text of one of the account's posts")
    edit.add_argument("name")
    edit.add_argument("post_id", help="the id printed by `user post`")
    edit.add_argument("text")
    edit.add_argument("--summary", default=None, help="new content warning ('' removes it)")
    delete = user.add_parser("delete-post", help="delete one of the account's posts")
    delete.add_argument("name")
    delete.add_argument("post_id")


@contextlib.asynccontextmanager
async def _federation(settings: Settings) -> AsyncIterator[Federation]:
    """The federation services for one command (the same client and signer `serve` uses)."""
    from fedgroups.federation.context import start_federation
    from fedgroups.groups.actors import ensure_instance_actor

    federation = start_federation(settings, await ensure_instance_actor(settings))
    try:
        yield federation
    finally:
        await federation.close()


async def _person(settings: Settings, name: str) -> Actor:
    """The account's Person; a suspended account can do nothing in its name."""
    from fedgroups.errors import ValidationError
    from fedgroups.groups.accounts import find_account
    from fedgroups.groups.following import local_person

    account = await find_account(settings, name)
    if account.is_suspended:
        raise ValidationError(f"{name} is suspended")
    return await local_person(account)


async def _group(settings: Settings, person: Actor, handle: str) -> Actor:
    """A group the person follows (no network needed), else looked up on its server."""
    from fedgroups.federation.discovery import resolve_actor
    from fedgroups.groups.following import followed_group

    group = await followed_group(person, handle)
    if group is not None:
        return group
    async with _federation(settings) as federation:
        return await resolve_actor(federation, handle)


_STATES = {
    "pending": "asked to join @{group}: waiting for the group to accept",
    "accepted": "member of @{group}",
}


async def _follow(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.following import follow_remote_group

    person = await _person(settings, args.name)
    async with _federation(settings) as federation:
        subscription = await follow_remote_group(federation, person, args.handle)
    group = await subscription.group_actor
    return _STATES[subscription.state.value].format(group=group.handle)


async def _unfollow(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.following import unfollow_remote_group

    person = await _person(settings, args.name)
    async with _federation(settings) as federation:
        subscription = await unfollow_remote_group(federation, person, args.handle)
    group = await subscription.group_actor
    return f"left @{group.handle}"


async def _following(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.following import subscriptions_of

    person = await _person(settings, args.name)
    rows = await subscriptions_of(person)
    if not rows:
        return f"@{person.handle} follows no group on another server"
    return "\n".join(f"{row.group_actor.handle}\t{row.state.value}" for row in rows)


async def _post(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.authoring import publish_post

    person = await _person(settings, args.name)
    group = await _group(settings, person, args.handle)
    post = await publish_post(
        person, group, args.text, summary=args.summary, in_reply_to=args.reply_to
    )
    return post.ap_id


async def _edit_post(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.authoring import edit_post

    person = await _person(settings, args.name)
    post = await edit_post(person, args.post_id, args.text, summary=args.summary)
    return post.ap_id


async def _delete_post(settings: Settings, args: argparse.Namespace) -> str:
    from fedgroups.groups.authoring import delete_post

    person = await _person(settings, args.name)
    post = await delete_post(person, args.post_id)
    return f"deleted {post.ap_id}"


MEMBER_COMMANDS: dict[tuple[str, str | None], Handler] = {
    ("user", "follow"): _follow,
    ("user", "unfollow"): _unfollow,
    ("user", "following"): _following,
    ("user", "post"): _post,
    ("user", "edit-post"): _edit_post,
    ("user", "delete-post"): _delete_post,
}
