"""A member's own pages: notifications, and settings (profile, password, deleting the account).

A new password ends every session, this one included, and opens a fresh one here (T48).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedgroups.errors import ValidationError
from fedgroups.groups import throttle
from fedgroups.groups.accounts import change_password, time_zones, update_profile
from fedgroups.groups.leaving import delete_account
from fedgroups.groups.notifications import mark_all_read, notices_for
from fedgroups.groups.sessions import open_session, revoke_sessions
from fedgroups.models import Account
from fedgroups.settings import Settings
from fedgroups.web.auth import TOO_MANY, logged_in_response
from fedgroups.web.forms import current_account, field, form_page, read_form, redirect
from fedgroups.web.sessions import cookie_header, cookie_names
from fedgroups.web.templating import render_page


async def notifications(request: Request) -> Response:
    account = current_account(request)
    if request.method == "POST":
        await read_form(request)
        await mark_all_read(account)
        return redirect("/notifications")
    notices = await notices_for(account)
    return render_page(request, "account/notifications.html", {"notices": notices})


def _profile_values(account: Account) -> dict[str, str]:
    return {
        "display_name": account.actor.display_name,
        "pronouns": account.pronouns,
        "bio": account.bio,
        "time_zone": account.time_zone,
    }


def _settings_page(
    request: Request, account: Account, errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None, saved: str = "", status_code: int = 200,
) -> Response:  # fmt: skip
    context = {"time_zones": time_zones(), "saved": saved}
    merged = {**_profile_values(account), **(values or {})}
    return form_page(
        request, "account/settings.html", context, errors=errors, values=merged,
        status_code=status_code,
    )  # fmt: skip


async def settings_page(request: Request) -> Response:
    account = current_account(request)
    saved = request.query_params.get("saved", "")
    return _settings_page(request, account, saved=saved if saved in ("profile", "password") else "")


async def save_profile(request: Request) -> Response:
    account = current_account(request)
    form = await read_form(request)
    values = {
        "display_name": field(form, "display_name", 200),
        "pronouns": field(form, "pronouns", 100),
        "bio": field(form, "bio", 2000),
        "time_zone": field(form, "time_zone", 64),
    }
    try:
        await update_profile(account, **values)
    except ValidationError as exc:
        return _settings_page(request, account, {exc.field or "form": str(exc)}, values)
    return redirect("/settings?saved=profile")


async def save_password(request: Request) -> Response:
    account = current_account(request)
    form = await read_form(request)
    key = str(account.id)
    if await throttle.retry_after(throttle.PASSWORD_PER_ACCOUNT, key):
        return _settings_page(request, account, {"current_password": TOO_MANY}, status_code=429)
    new = field(form, "new_password", 4096)
    if new != field(form, "new_password_again", 4096):
        return _settings_page(
            request, account, {"new_password_again": "The two passwords are not the same."}
        )
    try:
        await change_password(account, field(form, "current_password", 4096), new)
    except ValidationError as exc:
        await throttle.record(throttle.PASSWORD_PER_ACCOUNT, key)
        return _settings_page(request, account, {exc.field or "form": str(exc)})
    await revoke_sessions(account)
    token = await open_session(account)
    return logged_in_response(request, account, token, "/settings?saved=password")


async def delete(request: Request) -> Response:
    account = current_account(request)
    form = await read_form(request)
    settings: Settings = request.app.state.settings
    key = str(account.id)
    if await throttle.retry_after(throttle.PASSWORD_PER_ACCOUNT, key):
        return _settings_page(request, account, {"delete_password": TOO_MANY}, status_code=429)
    try:
        await delete_account(settings, account, field(form, "delete_password", 4096))
    except ValidationError as exc:
        await throttle.record(throttle.PASSWORD_PER_ACCOUNT, key)
        return _settings_page(request, account, {exc.field or "form": str(exc)})
    request.state.account = request.state.viewer = None
    session_name, _ = cookie_names(settings)
    response = render_page(request, "account/deleted.html", {})
    response.headers.append("set-cookie", cookie_header(settings, session_name, "", max_age=0))
    return response


routes = [
    Route("/notifications", notifications, methods=["GET", "POST"]),
    Route("/settings", settings_page),
    Route("/settings/profile", save_profile, methods=["POST"]),
    Route("/settings/password", save_password, methods=["POST"]),
    Route("/settings/delete", delete, methods=["POST"]),
]
