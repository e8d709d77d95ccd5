"""Groups on other servers, from here: follow one by handle or URL, read what it carries,
post and reply to it, leave it. Pages look like those of groups hosted here.

Reads go through `visibility.readable_remote_posts`; posting goes to the group's own server
(`authoring.publish_post`), which shares the post with its members, us included.
"""

from __future__ import annotations

import contextlib

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedgroups.errors import BlockedDomain, Conflict, FederationError, NotFound, ValidationError
from fedgroups.groups import threads, visibility
from fedgroups.groups.authoring import delete_post as delete_remote_post
from fedgroups.groups.authoring import publish_post
from fedgroups.groups.content import sanitize_html
from fedgroups.groups.domains import refusal_for
from fedgroups.groups.following import follow_remote_group, subscription_to, unsubscribe
from fedgroups.groups.writing import check_post_fields
from fedgroups.models import Actor, ActorKind
from fedgroups.web.forms import current_account, field, form_page, read_form, redirect
from fedgroups.web.group_pages import page_number
from fedgroups.web.templating import render_page


async def _remote_group(request: Request) -> Actor:
    group = await Actor.get_or_none(
        id=request.path_params["group_id"], is_local=False, kind=ActorKind.GROUP, gone_at=None
    )
    if group is None:
        raise NotFound("no such group")
    return group


async def follow(request: Request) -> Response:
    account = current_account(request)
    if request.method == "GET":
        return form_page(request, "remote/follow.html", {})
    form = await read_form(request)
    handle = field(form, "handle", 600).strip()
    try:
        subscription = await follow_remote_group(request.app.state.federation, account, handle)
    except (ValidationError, NotFound, Conflict, FederationError) as exc:
        message = await _why_not(handle, exc)
        return form_page(
            request, "remote/follow.html", {}, errors={"handle": message}, values={"handle": handle}
        )
    return redirect(f"/r/{subscription.group_actor_id}")  # type: ignore[attr-defined]


async def _why_not(handle: str, exc: Exception) -> str:
    """What the person is told when a follow fails; a refused server says why (never silent)."""
    if isinstance(exc, BlockedDomain):
        refusal = await refusal_for(handle)
        if refusal is not None:
            reason = refusal.reason.rstrip(".")
            return f"This instance no longer federates with {refusal.domain}: {reason}."
    if not isinstance(exc, FederationError):
        return str(exc)
    return (
        "That server could not be reached, or does not allow it. Check the handle or try "
        "again later."
    )


async def group_page(request: Request) -> Response:
    group = await _remote_group(request)
    viewer = request.state.viewer
    scope = await visibility.readable_remote_posts(group, viewer)
    context = {
        "group": group,
        "summary_html": sanitize_html(group.summary),
        "subscription": await subscription_to(viewer, group) if viewer is not None else None,
        "is_member": await visibility.is_remote_group_member(group, viewer),
        "threads": await threads.thread_page(scope, page_number(request)),
    }
    return render_page(request, "remote/group.html", context)


async def leave(request: Request) -> Response:
    group = await _remote_group(request)
    account = current_account(request)
    await read_form(request)
    with contextlib.suppress(NotFound):  # already gone: leaving twice is still leaving
        await unsubscribe(account.actor, group)
    return redirect(f"/r/{group.id}")


async def _post_in(request: Request, group: Actor) -> object:
    scope = await visibility.readable_remote_posts(group, request.state.viewer)
    return await threads.find_post(scope, request.path_params["post_id"])


async def thread(request: Request) -> Response:
    group = await _remote_group(request)
    scope = await visibility.readable_remote_posts(group, request.state.viewer)
    post = await threads.find_post(scope, request.path_params["post_id"])
    context = {
        "group": group,
        "base": f"/r/{group.id}",
        "group_name": group.display_name or group.username,
        "focus": post,
        "tree": await threads.thread_tree(scope, post),
        "can_post": await visibility.is_remote_group_member(group, request.state.viewer),
    }
    return render_page(request, "posts/thread.html", context)


async def _compose(request: Request, group: Actor, parent: object | None) -> Response:
    account = current_account(request)
    context = {
        "group": group, "parent": parent, "base": f"/r/{group.id}",
        "group_name": group.display_name or group.username,
        "is_private": group.manually_approves_followers,
    }  # fmt: skip
    if not await visibility.is_remote_group_member(group, account.actor):
        return render_page(request, "remote/not_member.html", context, status_code=403)
    if request.method == "GET":
        return form_page(request, "posts/compose.html", context)
    form = await read_form(request)
    values = {"body": field(form, "body", 20_000), "summary": field(form, "summary", 500)}
    try:
        check_post_fields(values["body"], values["summary"])
        post = await publish_post(
            account, group, values["body"], summary=values["summary"],
            in_reply_to=getattr(parent, "ap_id", ""),
        )  # fmt: skip
    except ValidationError as exc:
        errors = {exc.field or "form": str(exc)}
        return form_page(request, "posts/compose.html", context, errors=errors, values=values)
    target = getattr(parent, "id", None) or post.id
    return redirect(f"/r/{group.id}/t/{target}#p{post.id}")


async def compose(request: Request) -> Response:
    return await _compose(request, await _remote_group(request), None)


async def reply(request: Request) -> Response:
    group = await _remote_group(request)
    return await _compose(request, group, await _post_in(request, group))


async def delete(request: Request) -> Response:
    """Delete one's own post in a group elsewhere: the group's server is sent a Delete."""
    group = await _remote_group(request)
    account = current_account(request)
    if request.method == "POST":
        await read_form(request)  # CSRF first: a forged post learns nothing
    post = await _post_in(request, group)
    if getattr(post, "author_id", None) != account.actor_id:  # type: ignore[attr-defined]
        raise NotFound("no such post")
    if request.method == "GET":
        context = {"post": post, "base": f"/r/{group.id}", "group_name": group.display_name}
        return render_page(request, "posts/delete.html", context)
    await delete_remote_post(account, post)  # type: ignore[arg-type]
    return redirect(f"/r/{group.id}")


routes = [
    Route("/follow", follow, methods=["GET", "POST"]),
    Route("/r/{group_id:int}", group_page),
    Route("/r/{group_id:int}/leave", leave, methods=["POST"]),
    Route("/r/{group_id:int}/compose", compose, methods=["GET", "POST"]),
    Route("/r/{group_id:int}/t/{post_id:int}", thread),
    Route("/r/{group_id:int}/t/{post_id:int}/reply", reply, methods=["GET", "POST"]),
    Route("/r/{group_id:int}/t/{post_id:int}/delete", delete, methods=["GET", "POST"]),
]
