"""A group's pages for people: the group itself, joining and leaving, starting a group, and
moderators' join requests. Every read asks `groups/visibility.py` first."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedgroups.errors import Conflict, NotFound, ValidationError
from fedgroups.groups import threads, visibility
from fedgroups.groups.directory import find_group
from fedgroups.groups.domains import domain_of, refusal_for
from fedgroups.groups.freshness import page_version
from fedgroups.groups.joining import join_group, leave, membership_of
from fedgroups.groups.modlog import Acting
from fedgroups.groups.severance import severed_servers
from fedgroups.groups.stewardship import (
    GroupForm,
    decide_request,
    is_moderator,
    pending_requests,
    start_group,
)
from fedgroups.models import Group, MembershipState
from fedgroups.settings import Settings
from fedgroups.web.forms import current_account, field, form_page, read_form, redirect
from fedgroups.web.shared_pages import SharedPages
from fedgroups.web.templating import html_response, render_anonymous, render_page


def page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    if not raw.isdigit() or not 0 < int(raw) <= 500:  # deep pages cost a longer scan
        raise NotFound("no such page")
    return int(raw)


async def group_page(request: Request, slug: str) -> Response:
    """About, rules, moderators, pinned posts and threads (members only when members-only)."""
    page = page_number(request)
    if _may_be_shared(request):
        shared = await _everyones_group_page(request, slug, page)
        if shared is not None:
            return shared
    group = await find_group(slug)
    context = await _group_context(request, group, page)
    return render_page(request, "groups/group.html", context | await _server_check(request))


def _may_be_shared(request: Request) -> bool:
    """An anonymous reader, not asking for their own server check."""
    asks_more = any(name != "page" for name in request.query_params)
    anonymous = request.state.account is None
    return anonymous and not asks_more and visibility.is_nobody_in_particular(request.state.viewer)


async def _everyones_group_page(request: Request, slug: str, page: int) -> Response | None:
    """Rendered once per change of what it shows, whichever process made the change; None
    when the group's page is not everyone's (members-only) or there is no such group."""
    version = await page_version(slug)  # before reading anything the page shows
    if version is None:
        return None
    pages: SharedPages = request.app.state.shared_pages
    key = (version.group_id, page)
    html = pages.get(key, version)  # only ever stored for a view that was everyone's
    if html is None:
        group = await find_group(slug)
        if group.pk != version.group_id:
            return None
        if not visibility.is_everyones_view(group, request.state.viewer):
            return None
        context = await _group_context(request, group, page)
        html = render_anonymous(request, "groups/group.html", context)
        pages.put(key, version, html)
    return html_response(request, html)


async def _group_context(request: Request, group: Group, page: int) -> dict[str, object]:
    viewer = request.state.viewer
    account = request.state.account
    can_read = await visibility.can_read_content(group, viewer)
    readable = await visibility.readable_posts(group, viewer)
    membership = await membership_of(group, viewer)
    return {
        "group": group,
        "can_read": can_read,
        "membership": membership,
        "is_member": membership is not None and membership.state == MembershipState.APPROVED,
        "is_moderator": await is_moderator(group, account),
        "moderators": await threads.moderators(group)
        if await visibility.can_list_moderators(group, viewer)
        else None,
        "pinned": await threads.pinned_posts(readable) if can_read else [],
        "threads": await threads.thread_page(readable, page) if can_read else None,
        # Which servers it lost, and why: members-only groups tell their members alone.
        "severed": await severed_servers(group) if can_read or not group.is_private else [],
    }


async def _server_check(request: Request) -> dict[str, object]:
    """A visitor asks whether their server can join (`?server=`): if not, they learn why."""
    asked = request.query_params.get("server", "").strip()[:300]
    if not asked:
        return {}
    try:
        refusal = await refusal_for(asked)
    except ValidationError:
        return {"server_asked": asked, "server_error": "That is not a server's name."}
    return {"server_asked": domain_of(asked), "server_refusal": refusal}


async def join(request: Request) -> Response:
    group = await find_group(request.path_params["slug"])
    account = current_account(request)
    context = {"group": group}
    if request.method == "GET":
        return form_page(request, "groups/join.html", context)
    form = await read_form(request)
    answers = [field(form, f"answer{i}", 1000) for i in range(len(group.join_questions or []))]
    try:
        await join_group(group, account.actor, answers)
    except ValidationError as exc:
        values = {f"answer{i}": answer for i, answer in enumerate(answers)}
        return form_page(
            request, "groups/join.html", context, errors={exc.field or "form": str(exc)},
            values=values,
        )  # fmt: skip
    return redirect(f"/g/{group.slug}")


async def leave_page(request: Request) -> Response:
    group = await find_group(request.path_params["slug"])
    account = current_account(request)
    await read_form(request)
    await leave(group, account.actor)
    return redirect(f"/g/{group.slug}")


async def new_group(request: Request) -> Response:
    account = current_account(request)
    if request.method == "GET":
        return form_page(request, "groups/new.html", {})
    form = await read_form(request)
    data = GroupForm(
        slug=field(form, "slug", 64).strip(), name=field(form, "name", 300).strip(),
        summary=field(form, "summary", 3000), rules=field(form, "rules", 6000),
        questions=field(form, "questions", 3000), is_private=field(form, "private") == "1",
    )  # fmt: skip
    settings: Settings = request.app.state.settings
    try:
        group = await start_group(settings, account, data)
    except ValidationError as exc:
        error = {exc.field or "form": str(exc)}
    except Conflict:
        error = {"slug": "That name is taken. Please choose another."}
    else:
        return redirect(f"/g/{group.slug}")
    values = {key: str(value) for key, value in vars(data).items()}
    values["private"] = "1" if data.is_private else ""
    return form_page(request, "groups/new.html", {}, errors=error, values=values)


async def requests_page(request: Request) -> Response:
    group = await find_group(request.path_params["slug"])
    account = current_account(request)
    if not await is_moderator(group, account):
        raise NotFound("hidden")
    if request.method == "POST":
        form = await read_form(request)
        raw_id = field(form, "membership", 20)
        if not raw_id.isdigit():
            raise NotFound("no such request")
        approve = field(form, "decision") == "approve"
        acting = Acting(moderator=account.actor)
        await decide_request(group, int(raw_id), approve=approve, acting=acting)
        return redirect(f"/g/{group.slug}/requests")
    context = {"group": group, "requests": await pending_requests(group)}
    return render_page(request, "groups/requests.html", context)


routes = [
    Route("/groups/new", new_group, methods=["GET", "POST"]),
    Route("/g/{slug}/join", join, methods=["GET", "POST"]),
    Route("/g/{slug}/leave", leave_page, methods=["POST"]),
    Route("/g/{slug}/requests", requests_page, methods=["GET", "POST"]),
]
