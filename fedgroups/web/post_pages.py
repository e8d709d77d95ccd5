"""Thread pages and the forms to write: a new thread, or a reply. Markdown in, with an
optional content warning that keeps the body collapsed until the reader opens it."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedgroups.errors import NotFound, ValidationError
from fedgroups.groups import threads, visibility
from fedgroups.groups.directory import find_group
from fedgroups.groups.intake import confirm_rules, must_confirm_rules
from fedgroups.groups.membership import is_member
from fedgroups.groups.posting import is_locked
from fedgroups.groups.writing import remove_own_post, write_post
from fedgroups.models import Group, Post
from fedgroups.web.forms import current_account, field, form_page, read_form, redirect
from fedgroups.web.templating import render_page


async def _readable_group(request: Request) -> Group:
    """The group in the path, if the viewer may read its posts; NotFound otherwise (T54)."""
    group = await find_group(request.path_params["slug"])
    if not await visibility.can_read_content(group, request.state.viewer):
        raise NotFound("hidden")
    return group


async def _post_in(group: Group, request: Request) -> Any:
    raw = request.path_params["post_id"]
    scope = await visibility.readable_posts(group, request.state.viewer)
    return await threads.find_post(scope, raw)


def _post_link(group: Group, post: Post) -> str:
    return f"/g/{group.slug}/t/{post.id}"


async def thread(request: Request) -> Response:
    group = await _readable_group(request)
    post = await _post_in(group, request)
    viewer = request.state.viewer
    context = {
        "group": group,
        "base": f"/g/{group.slug}",
        "group_name": group.name,
        "focus": post,
        "tree": await threads.thread_tree(await visibility.readable_posts(group, viewer), post),
        "can_post": viewer is not None and await is_member(group, viewer),
        "is_locked": await is_locked(group, post.thread_root or post.ap_id),
        "can_moderate": await visibility.can_moderate(group, viewer),
    }
    return render_page(request, "posts/thread.html", context)


async def _compose(request: Request, group: Group, parent: Post | None) -> Response:
    account = current_account(request)
    context = {
        "group": group, "parent": parent, "base": f"/g/{group.slug}", "group_name": group.name,
        "is_private": group.is_private,
    }  # fmt: skip
    if not await is_member(group, account.actor):
        return render_page(request, "posts/not_member.html", context, status_code=403)
    # A member confirms the group's rules before their first post (and when they change).
    context["rules"] = group.rules if await must_confirm_rules(group, account.actor) else ""
    if request.method == "GET":
        return form_page(request, "posts/compose.html", context)
    form = await read_form(request)
    values = {"body": field(form, "body", 20_000), "summary": field(form, "summary", 500)}
    try:
        if context["rules"] and field(form, "confirm_rules") == "1":
            await confirm_rules(group, account.actor)
        taken = await write_post(
            group, account.actor, values["body"], summary=values["summary"],
            in_reply_to=parent.ap_id if parent else "",
        )  # fmt: skip
    except ValidationError as exc:
        errors = {exc.field or "form": str(exc)}
        return form_page(request, "posts/compose.html", context, errors=errors, values=values)
    if taken.post is None:  # held for review, or refused by a keyword rule
        context["outcome"] = taken.outcome.value
        return render_page(request, "posts/held.html", context, status_code=202)
    target = _post_link(group, parent or taken.post)
    return redirect(f"{target}#p{taken.post.id}")


async def compose(request: Request) -> Response:
    group = await _readable_group(request)
    return await _compose(request, group, None)


async def reply(request: Request) -> Response:
    group = await _readable_group(request)
    parent = await _post_in(group, request)
    return await _compose(request, group, parent)


async def delete(request: Request) -> Response:
    """Delete one's own post, after a confirmation page (no JavaScript needed)."""
    group = await _readable_group(request)
    account = current_account(request)
    if request.method == "POST":
        await read_form(request)  # CSRF first: a forged post learns nothing
    post = await _post_in(group, request)
    if post.author_id != account.actor_id:  # type: ignore[attr-defined]
        raise NotFound("no such post")
    if request.method == "GET":
        context = {"post": post, "base": f"/g/{group.slug}", "group_name": group.name}
        return render_page(request, "posts/delete.html", context)
    await remove_own_post(account.actor, post)
    return redirect(f"/g/{group.slug}")


routes = [
    Route("/g/{slug}/compose", compose, methods=["GET", "POST"]),
    Route("/g/{slug}/t/{post_id:int}", thread),
    Route("/g/{slug}/t/{post_id:int}/reply", reply, methods=["GET", "POST"]),
    Route("/g/{slug}/t/{post_id:int}/delete", delete, methods=["GET", "POST"]),
]
