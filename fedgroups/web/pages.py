"""Pages for people: the instance home with its group directory and search, and the about page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedgroups.groups.directory import search_groups
from fedgroups.groups.domains import list_blocks
from fedgroups.groups.following import subscriptions_of
from fedgroups.groups.instance import instance_profile
from fedgroups.groups.registrations import registration_mode
from fedgroups.settings import Settings
from fedgroups.web.templating import render_page


async def home(request: Request) -> Response:
    query = request.query_params.get("q", "")[:100]
    settings: Settings = request.app.state.settings
    account = request.state.account
    context = {
        "followed": await subscriptions_of(account.actor) if account is not None else [],
        "groups": await search_groups(query),
        "query": query,
        "profile": await instance_profile(),
        "registrations": (await registration_mode(settings)).value,
    }
    return render_page(request, "instance/home.html", context)


async def about(request: Request) -> Response:
    """The description, the rules, and (as Mastodon's about page does) the moderated servers."""
    context = {"profile": await instance_profile(), "blocks": await list_blocks()}
    return render_page(request, "instance/about.html", context)


routes = [Route("/", home), Route("/about", about)]
