"""A group's moderation pages: the moderators' page (the review queue, open reports, join
requests, moderators, bans, rules, join questions and keyword rules), removing posts and
locking threads, and the moderation log that members read.

Moderators' pages ask `visibility.can_moderate` first and the log `can_read_moderation_log`;
anyone else gets the same 404 as for a page that never existed.
"""

from __future__ import annotations

from contextlib import suppress

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedgroups.errors import Conflict, NotFound, ValidationError
from fedgroups.groups import threads, visibility
from fedgroups.groups.actors import find_actor_by_handle
from fedgroups.groups.directory import find_group
from fedgroups.groups.intake import configure_group
from fedgroups.groups.moderation import ban, lock_thread, remove_post, unban, unlock_thread
from fedgroups.groups.moderators import appoint_moderator, dismiss_moderator, moderators_of
from fedgroups.groups.modlog import Acting, group_log
from fedgroups.groups.reports import group_reports
from fedgroups.groups.review import (
    approve_held_post,
    find_held_post,
    held_posts,
    reject_held_post,
)
from fedgroups.groups.screening import add_keyword, keyword_rules, remove_keyword
from fedgroups.groups.stewardship import pending_requests
from fedgroups.models import Account, Group, KeywordAction
from fedgroups.settings import Settings
from fedgroups.web.forms import current_account, field, form_page, read_form, redirect
from fedgroups.web.group_pages import page_number
from fedgroups.web.templating import render_page

MAX_REASON = 1_000


async def _moderated(request: Request) -> tuple[Group, Account]:
    group = await find_group(request.path_params["slug"])
    account = current_account(request)
    if not await visibility.can_moderate(group, account.actor):
        raise NotFound("hidden")
    return group, account


def _acting(account: Account, form: FormData) -> Acting:
    return Acting(moderator=account.actor, reason=field(form, "reason", MAX_REASON))


async def _hub(
    request: Request, group: Group, account: Account, errors: dict[str, str] | None = None
) -> Response:
    context = {
        "group": group,
        "held": await held_posts(group),
        "reports": await group_reports(group, account.actor),
        "requests": len(await pending_requests(group)),
        "moderators": await moderators_of(group),
        "keywords": await keyword_rules(group),
    }
    values = {
        "rules": group.rules,
        "review_first": str(group.review_first_posts),
        "questions": "\n".join(group.join_questions or []),
    }
    return form_page(request, "moderation/hub.html", context, errors=errors, values=values)


async def moderation_page(request: Request) -> Response:
    group, account = await _moderated(request)
    return await _hub(request, group, account)


async def _act(request: Request, action: str) -> Response:
    """Run one of the hub's forms; its errors come back on the hub, next to the form."""
    form = await read_form(request)  # CSRF first: a forged post learns nothing
    group, account = await _moderated(request)
    settings: Settings = request.app.state.settings
    try:
        await _FORMS[action](settings, group, account, form)
    except (ValidationError, NotFound, Conflict) as exc:
        return await _hub(request, group, account, errors={action: str(exc)})
    return redirect(f"/g/{group.slug}/moderation#{action}")


async def _queue(settings: Settings, group: Group, account: Account, form: FormData) -> None:
    raw_id = field(form, "held", 20)
    if not raw_id.isdigit():
        raise NotFound("That post no longer waits.")
    held = await find_held_post(group, int(raw_id))
    if field(form, "decision") == "approve":
        await approve_held_post(group, held, _acting(account, form))
    else:
        await reject_held_post(group, held, _acting(account, form))


async def _settings(settings: Settings, group: Group, account: Account, form: FormData) -> None:
    review = field(form, "review_first", 10).strip() or "0"
    if not review.isdigit():
        raise ValidationError("Give a number of posts (0: none wait).")
    # Only members-only groups ask questions, and only their form has the field.
    questions = field(form, "questions", 3_000).splitlines() if "questions" in form else None
    await configure_group(
        group, _acting(account, form), rules=field(form, "rules", 6_000),
        review_first_posts=int(review), join_questions=questions,
    )  # fmt: skip


async def _keywords(settings: Settings, group: Group, account: Account, form: FormData) -> None:
    phrase, change = field(form, "phrase", 200), field(form, "change", 10)
    if change == "remove":
        await remove_keyword(group, phrase, _acting(account, form))
        return
    action = KeywordAction.REJECT if change == "reject" else KeywordAction.HOLD
    await add_keyword(group, phrase, action, _acting(account, form))


async def _moderators(settings: Settings, group: Group, account: Account, form: FormData) -> None:
    person = await find_actor_by_handle(settings, field(form, "handle", 600))
    if field(form, "change") == "dismiss":
        await dismiss_moderator(group, person, _acting(account, form))
    else:
        await appoint_moderator(group, person, _acting(account, form))


async def _bans(settings: Settings, group: Group, account: Account, form: FormData) -> None:
    person = await find_actor_by_handle(settings, field(form, "handle", 600))
    if person.pk == account.actor_id:  # type: ignore[attr-defined]
        raise ValidationError("You cannot ban yourself.")
    if field(form, "change") == "unban":
        await unban(group, person, _acting(account, form))
    else:
        remove = field(form, "remove_posts") == "1"
        await ban(group, person, _acting(account, form), remove_posts=remove)


_FORMS = {
    "queue": _queue,
    "settings": _settings,
    "keywords": _keywords,
    "moderators": _moderators,
    "bans": _bans,
}


def _form_route(action: str) -> Route:
    async def endpoint(request: Request) -> Response:
        return await _act(request, action)

    return Route(f"/g/{{slug}}/moderation/{action}", endpoint, methods=["POST"])


async def remove_page(request: Request) -> Response:
    """A moderator removes a post, after a page that asks why (no JavaScript needed)."""
    # CSRF before anything else: a forged post learns nothing.
    form = await read_form(request) if request.method == "POST" else None
    group, account = await _moderated(request)
    post = await threads.find_post(
        await visibility.readable_posts(group, account.actor), request.path_params["post_id"]
    )
    if form is None:
        context = {"group": group, "post": post, "base": f"/g/{group.slug}"}
        return form_page(request, "moderation/remove.html", context)
    await remove_post(group, post, _acting(account, form))
    return redirect(f"/g/{group.slug}")


async def lock_page(request: Request) -> Response:
    form = await read_form(request)
    group, account = await _moderated(request)
    post = await threads.find_post(
        await visibility.readable_posts(group, account.actor), request.path_params["post_id"]
    )
    change = lock_thread if field(form, "lock") == "1" else unlock_thread
    with suppress(Conflict):  # already as asked: nothing to do
        await change(group, post, _acting(account, form))
    return redirect(f"/g/{group.slug}/t/{post.id}")


async def log_page(request: Request) -> Response:
    """The group's moderation log: what was done, by whom, to whom and why (members only)."""
    group = await find_group(request.path_params["slug"])
    page = page_number(request)
    lines = await group_log(group, request.state.viewer, page=page)
    context = {"group": group, "lines": lines, "page": page}
    return render_page(request, "moderation/log.html", context)


routes = [
    Route("/g/{slug}/moderation", moderation_page),
    *[_form_route(action) for action in _FORMS],
    Route("/g/{slug}/t/{post_id:int}/remove", remove_page, methods=["GET", "POST"]),
    Route("/g/{slug}/t/{post_id:int}/lock", lock_page, methods=["POST"]),
    Route("/g/{slug}/log", log_page),
]
