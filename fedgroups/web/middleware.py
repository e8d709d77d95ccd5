"""ASGI middleware binding each request to its instance's database, its viewer still unknown.

The viewer starts as None; `web/viewers.py` fills it in when an endpoint asks who is reading.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from fedgroups.db import bind_context


class InstanceContextMiddleware:
    """Requests run in their own tasks, so the database context is bound per request.

    This is what lets several instances (each with its own database) share one process.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        context = scope["app"].state.db
        scope.setdefault("state", {})["viewer"] = None
        with bind_context(context):
            await self.app(scope, receive, send)
