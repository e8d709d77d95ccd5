"""A shorter path for peers' inbox POSTs: past the browser-session layer, straight to the route.

Peers send no cookies and the inbox answers no browser, yet the session middleware parsed
cookies, drew a pre-session seed and wrapped every reply for every delivery, and the router
tried the request against the app's routes. An inbox POST without a Cookie header now goes
from here to its route, still inside the database binding (which wakes the workers) and
the same exception handlers. A request with cookies takes the full stack as before, so a
browser's error page for it looks the same.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from fedgroups.web.middleware import InstanceContextMiddleware


def _has_cookie(scope: Scope) -> bool:
    return any(key == b"cookie" for key, _ in scope["headers"])


class InboxDispatch:
    """Sends cookie-less POSTs matching `routes` to them directly; everything else to `app`."""

    def __init__(self, app: ASGIApp, routes: Sequence[Route], handlers: Mapping[Any, Any]) -> None:
        self.app = app
        self._routes = [
            (route, InstanceContextMiddleware(ExceptionMiddleware(route.app, dict(handlers))))
            for route in routes
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and not _has_cookie(scope):
            for route, chain in self._routes:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    _as_router_would(scope, route, child_scope)
                    await chain(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def _as_router_would(scope: Scope, route: Route, child_scope: Scope) -> None:
    """The scope the full stack gives a cookie-less request: no account, a fresh pre-session
    seed (its cookie is only sent with a 200 page, which no inbox answers)."""
    scope.setdefault("router", scope["app"].router)
    scope["route"] = route
    scope.update(child_scope)
    state = scope.setdefault("state", {})
    state["account"] = None
    state["csrf_seed"] = "a:" + secrets.token_urlsafe(24)
