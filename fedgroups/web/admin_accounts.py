"""Admin accounts page: find local accounts, suspend one with a reason, lift a suspension."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedgroups.errors import Conflict, NotFound, ValidationError
from fedgroups.groups.suspensions import (
    find_local_account,
    local_accounts,
    suspend_account,
    unsuspend_account,
)
from fedgroups.web.admin import require_admin
from fedgroups.web.forms import field, form_page, read_form, redirect


async def _page(request: Request, errors: dict[str, str] | None = None) -> Response:
    query = request.query_params.get("q", "")[:100]
    suspended_only = request.query_params.get("suspended") == "1"
    context = {
        "section": "accounts",
        "query": query,
        "suspended_only": suspended_only,
        "accounts": await local_accounts(query, suspended_only=suspended_only),
    }
    return form_page(request, "admin/accounts.html", context, errors=errors)


async def accounts_page(request: Request) -> Response:
    require_admin(request)
    return await _page(request)


async def decide_suspension(request: Request) -> Response:
    """POST /admin/accounts/suspend or /unsuspend with the account's id and a reason."""
    admin = require_admin(request)
    if request.path_params["verb"] not in ("suspend", "unsuspend"):
        raise NotFound("no such action")
    form = await read_form(request)
    raw_id = field(form, "account", 20)
    account = await find_local_account(int(raw_id)) if raw_id.isdigit() else None
    if account is None:
        raise NotFound("no such account")
    act = suspend_account if request.path_params["verb"] == "suspend" else unsuspend_account
    try:
        await act(account, reason=field(form, "reason", 2000), by=admin.actor)
    except (ValidationError, Conflict) as exc:
        return await _page(request, {"form": str(exc)})
    return redirect(f"/admin/accounts?q={account.actor.username}")


routes = [
    Route("/admin/accounts", accounts_page),
    Route("/admin/accounts/{verb:str}", decide_suspension, methods=["POST"]),
]
