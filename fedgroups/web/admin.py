"""The admins' dashboard: the instance's figures, failing deliveries, sign-ups waiting for
approval and the admins' log. Every admin page answers 404 to anyone who is not an admin.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedgroups.errors import NotFound
from fedgroups.groups.accounts import decide_signup, pending_signups
from fedgroups.groups.admin_log import admin_log
from fedgroups.groups.instance_health import dashboard, failing_deliveries, peer_health
from fedgroups.models import Account
from fedgroups.web.forms import current_account, field, read_form, redirect
from fedgroups.web.templating import render_page

LOG_SHOWN = 20


def require_admin(request: Request) -> Account:
    """The logged-in admin; anyone else is told the page does not exist."""
    account = current_account(request)
    if not account.is_admin:
        raise NotFound("hidden")
    return account


async def admin_page(request: Request) -> Response:
    require_admin(request)
    context = {
        "section": "dashboard",
        "figures": await dashboard(),
        "failing_peers": [row for row in await peer_health() if row.is_failing],
        "failing": await failing_deliveries(),
        "signups": await pending_signups(),
        "log": await admin_log(limit=LOG_SHOWN),
    }
    return render_page(request, "admin/dashboard.html", context)


async def decide(request: Request) -> Response:
    admin = require_admin(request)
    form = await read_form(request)
    raw_id = field(form, "account", 20)
    if not raw_id.isdigit():
        raise NotFound("no such sign-up")
    approve = field(form, "decision") == "approve"
    await decide_signup(int(raw_id), approve=approve, by=admin.actor)
    return redirect("/admin")


routes = [
    Route("/admin", admin_page),
    Route("/admin/signups", decide, methods=["POST"]),
]
