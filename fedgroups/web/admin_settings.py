"""Admin settings: who may sign up, and what the instance says about itself (its about page)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedgroups.errors import ValidationError
from fedgroups.groups.instance import instance_profile, update_instance_profile
from fedgroups.groups.registrations import (
    parse_registration_mode,
    registration_mode,
    set_registration_mode,
)
from fedgroups.settings import Settings
from fedgroups.web.admin import require_admin
from fedgroups.web.forms import field, form_page, read_form, redirect


async def _page(
    request: Request, errors: dict[str, str] | None = None, values: dict[str, str] | None = None
) -> Response:
    settings: Settings = request.app.state.settings
    profile = await instance_profile()
    shown = {"description": profile.description, "rules": profile.rules, **(values or {})}
    context = {"section": "settings", "mode": (await registration_mode(settings)).value}
    return form_page(request, "admin/settings.html", context, errors=errors, values=shown)


async def settings_page(request: Request) -> Response:
    require_admin(request)
    return await _page(request)


async def save_registrations(request: Request) -> Response:
    admin = require_admin(request)
    form = await read_form(request)
    try:
        mode = parse_registration_mode(field(form, "mode", 20))
    except ValidationError as exc:
        return await _page(request, {"registrations": str(exc)})
    await set_registration_mode(request.app.state.settings, mode, by=admin.actor)
    return redirect("/admin/settings")


async def save_profile(request: Request) -> Response:
    admin = require_admin(request)
    form = await read_form(request)
    description, rules = field(form, "description"), field(form, "rules")
    try:
        await update_instance_profile(description, rules, by=admin.actor)
    except ValidationError as exc:
        values = {"description": description, "rules": rules}
        return await _page(request, {exc.field or "form": str(exc)}, values)
    return redirect("/admin/settings")


routes = [
    Route("/admin/settings", settings_page),
    Route("/admin/settings/registrations", save_registrations, methods=["POST"]),
    Route("/admin/profile", save_profile, methods=["POST"]),
]
