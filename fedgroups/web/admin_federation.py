"""Admin federation pages: health per peer domain, and the domains page where admins block
(suspend or limit) a server, keep the allowlist, switch the federation mode and answer
cautious mode's questions. Each change goes through the same services as the CLI, logged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedgroups.errors import NotFound, ValidationError
from fedgroups.groups.domains import (
    allow_domain,
    block_domain,
    deny_domain,
    disallow_domain,
    list_allows,
    list_blocks,
    unblock_domain,
)
from fedgroups.groups.federation_mode import (
    federation_mode,
    parse_federation_mode,
    pending_domains,
    set_federation_mode,
)
from fedgroups.groups.instance_health import peer_health
from fedgroups.models import Actor, BlockSeverity
from fedgroups.web.admin import require_admin
from fedgroups.web.forms import field, form_page, read_form, redirect
from fedgroups.web.templating import render_page

Change = Callable[[FormData, Actor], Awaitable[object]]


async def federation_page(request: Request) -> Response:
    require_admin(request)
    context = {"section": "federation", "peers": await peer_health()}
    return render_page(request, "admin/federation.html", context)


async def _domains(
    request: Request, errors: dict[str, str] | None = None, values: dict[str, str] | None = None
) -> Response:
    context = {
        "section": "domains",
        "mode": (await federation_mode()).value,
        "blocks": await list_blocks(),
        "allows": await list_allows(),
        "pending": await pending_domains(),
    }
    return form_page(request, "admin/domains.html", context, errors=errors, values=values)


async def domains_page(request: Request) -> Response:
    require_admin(request)
    return await _domains(request)


def _severity(form: FormData) -> BlockSeverity:
    try:
        return BlockSeverity(field(form, "severity", 20))
    except ValueError:
        raise ValidationError("Choose suspend or limit.", field="severity") from None


async def _block(form: FormData, admin: Actor) -> object:
    return await block_domain(
        field(form, "domain", 300),
        reason=field(form, "reason", 2000),
        severity=_severity(form),
        by=admin,
    )


async def _unblock(form: FormData, admin: Actor) -> object:
    if not await unblock_domain(field(form, "domain", 300), by=admin):
        raise ValidationError("That domain was not blocked.")
    return None


async def _allow(form: FormData, admin: Actor) -> object:
    return await allow_domain(
        field(form, "domain", 300), reason=field(form, "reason", 2000), by=admin
    )


async def _deny(form: FormData, admin: Actor) -> object:
    return await deny_domain(
        field(form, "domain", 300), reason=field(form, "reason", 2000), by=admin
    )


async def _disallow(form: FormData, admin: Actor) -> object:
    await disallow_domain(field(form, "domain", 300), by=admin)
    return None


async def _mode(form: FormData, admin: Actor) -> object:
    return await set_federation_mode(parse_federation_mode(field(form, "mode", 20)), by=admin)


CHANGES: dict[str, Change] = {
    "block": _block,
    "unblock": _unblock,
    "allow": _allow,
    "deny": _deny,
    "disallow": _disallow,
    "mode": _mode,
}


async def change_domains(request: Request) -> Response:
    """POST /admin/domains/{change}: one change, then back to the domains page."""
    admin = require_admin(request)
    change = CHANGES.get(request.path_params["change"])
    if change is None:
        raise NotFound("no such change")
    form = await read_form(request)
    try:
        await change(form, admin.actor)
    except (ValidationError, NotFound) as exc:
        where = request.path_params["change"]
        values = {"domain": field(form, "domain", 300), "reason": field(form, "reason", 2000)}
        return await _domains(request, {where: str(exc)}, values if where == "block" else None)
    return redirect("/admin/domains")


routes = [
    Route("/admin/federation", federation_page),
    Route("/admin/domains", domains_page),
    Route("/admin/domains/{change:str}", change_domains, methods=["POST"]),
]
