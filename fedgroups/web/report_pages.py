"""Reports in the browser: a member reports a post or its author; moderators and admins read a
report and resolve, dismiss or forward it; admins see every report on the instance.

Who may read a report is decided in `groups/reports.py` through `visibility`; everyone else
gets the same 404 as for a report that never existed.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedgroups.errors import Conflict, NotFound, ValidationError
from fedgroups.groups import threads, visibility
from fedgroups.groups.directory import find_group
from fedgroups.groups.modlog import Acting
from fedgroups.groups.reports import (
    Remedy,
    dismiss_report,
    find_report,
    forward_report,
    instance_reports,
    report_member,
    report_post,
    resolve_report,
)
from fedgroups.models import Report, ReportState
from fedgroups.settings import Settings
from fedgroups.web.forms import current_account, field, form_page, read_form, redirect
from fedgroups.web.templating import render_page

MAX_COMMENT = 5_000
ACTIONS = {
    "remove": Remedy(remove_post=True),
    "ban": Remedy(ban_member=True),
    "remove_ban": Remedy(remove_post=True, ban_member=True),
}


async def report_form(request: Request) -> Response:
    """Report a post, or the person who wrote it, to the group's moderators and the admins."""
    account = current_account(request)
    form = await read_form(request) if request.method == "POST" else None  # CSRF first (T58)
    group = await find_group(request.path_params["slug"])
    if not await visibility.can_read_content(group, account.actor):
        raise NotFound("hidden")
    post = await threads.find_post(
        await visibility.readable_posts(group, account.actor), request.path_params["post_id"]
    )
    context = {"group": group, "post": post, "base": f"/g/{group.slug}"}
    if form is None:
        return form_page(request, "moderation/report_form.html", context, values={"about": "post"})
    values = {"about": field(form, "about", 10), "comment": field(form, "comment", MAX_COMMENT)}
    try:
        if values["about"] == "person":
            await report_member(account.actor, group, post.author, values["comment"])
        else:
            await report_post(account.actor, post, values["comment"])
    except ValidationError as exc:
        errors = {"comment": str(exc)}
        template = "moderation/report_form.html"
        return form_page(request, template, context, errors=errors, values=values)
    return render_page(request, "moderation/reported.html", context)


async def report_page(request: Request) -> Response:
    """One report, with what can be done about it, for its group's moderators and the admins."""
    account = current_account(request)
    # CSRF before anything else: a forged post learns nothing, not even whether it exists.
    form = await read_form(request) if request.method == "POST" else None
    report = await find_report(request.path_params["report_id"], account.actor)
    if form is None:
        return _report(request, report)
    acting = Acting(moderator=account.actor, reason=field(form, "reason", 1_000))
    action = field(form, "action", 20)
    try:
        if action == "dismiss":
            await dismiss_report(report, acting)
        elif action == "forward":
            settings: Settings = request.app.state.settings
            await forward_report(settings, report, acting)
        elif action in ACTIONS:
            await resolve_report(report, ACTIONS[action], acting)
        else:
            raise ValidationError("Choose what to do.")
    except (ValidationError, Conflict) as exc:
        return _report(request, report, errors={"form": str(exc)})
    return redirect(f"/reports/{report.id}")


def _report(request: Request, report: Report, errors: dict[str, str] | None = None) -> Response:
    context = {"report": report, "is_open": report.state == ReportState.OPEN}
    return form_page(request, "moderation/report.html", context, errors=errors)


async def admin_reports(request: Request) -> Response:
    """Every report on the instance, including those about no group, for the admins."""
    account = current_account(request)
    state = request.query_params.get("state", "open")
    if state not in set(ReportState):
        raise NotFound("no such list")
    reports = await instance_reports(account.actor, state=ReportState(state))
    return render_page(request, "admin/reports.html", {"reports": reports, "state": state})


routes = [
    Route("/g/{slug}/t/{post_id:int}/report", report_form, methods=["GET", "POST"]),
    Route("/reports/{report_id:int}", report_page, methods=["GET", "POST"]),
    Route("/admin/reports", admin_reports),
]
