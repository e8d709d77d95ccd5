"""Pages for people: the instance home with its group directory, and the about page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedgroups.groups.directory import list_groups
from fedgroups.web.templating import render_page


async def home(request: Request) -> Response:
    groups = await list_groups()
    return render_page(request, "instance/home.html", {"groups": groups})


async def about(request: Request) -> Response:
    return render_page(request, "instance/about.html", {})


routes = [Route("/", home), Route("/about", about)]
