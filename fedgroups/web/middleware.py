"""ASGI middleware binding each request to its instance's database, its viewer still unknown.

The viewer starts as None; `web/viewers.py` fills it in when an endpoint asks who is reading.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from fedgroups.db import bind_context

# Requests that cannot have queued work for the workers.
_READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class InstanceContextMiddleware:
    """Requests run in their own tasks, so the database context is bound per request.

    This is what lets several instances (each with its own database) share one process.
    After a request that may have written (an inbox POST, a form), the instance's in-process
    workers are woken: whatever it queued is committed by then, and idle workers otherwise
    look for work only every so often.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        scope.setdefault("state", {})["viewer"] = None
        with bind_context(state.db):
            await self.app(scope, receive, send)
        worker = getattr(state, "worker", None)
        if worker is not None and scope.get("method") not in _READ_ONLY_METHODS:
            worker.notify()
