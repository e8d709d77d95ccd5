"""The admins' page: what the instance says about itself, and sign-ups waiting for approval."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedgroups.errors import NotFound, ValidationError
from fedgroups.groups.accounts import decide_signup, pending_signups
from fedgroups.groups.instance import instance_profile, update_instance_profile
from fedgroups.models import Account
from fedgroups.web.forms import current_account, field, form_page, read_form, redirect


def _admin(request: Request) -> Account:
    account = current_account(request)
    if not account.is_admin:
        raise NotFound("hidden")
    return account


async def _page(request: Request, errors: dict[str, str] | None = None) -> Response:
    profile = await instance_profile()
    values = {"description": profile.description, "rules": profile.rules}
    context = {"signups": await pending_signups()}
    return form_page(request, "admin/index.html", context, errors=errors, values=values)


async def admin_page(request: Request) -> Response:
    _admin(request)
    return await _page(request)


async def save_profile(request: Request) -> Response:
    _admin(request)
    form = await read_form(request)
    try:
        await update_instance_profile(field(form, "description"), field(form, "rules"))
    except ValidationError as exc:
        return await _page(request, {exc.field or "form": str(exc)})
    return redirect("/admin")


async def decide(request: Request) -> Response:
    _admin(request)
    form = await read_form(request)
    raw_id = field(form, "account", 20)
    if not raw_id.isdigit():
        raise NotFound("no such sign-up")
    await decide_signup(int(raw_id), approve=field(form, "decision") == "approve")
    return redirect("/admin")


routes = [
    Route("/admin", admin_page),
    Route("/admin/profile", save_profile, methods=["POST"]),
    Route("/admin/signups", decide, methods=["POST"]),
]
