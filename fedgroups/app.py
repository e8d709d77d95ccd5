"""`create_app(settings)`: the ASGI application of one instance, its resources in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from tortoise.context import TortoiseContext

from fedgroups.db import bind_context, open_database
from fedgroups.federation.context import Federation, start_federation
from fedgroups.federation.dispatch import make_inbox_processor
from fedgroups.groups.actors import ensure_instance_actor
from fedgroups.settings import Settings
from fedgroups.web import (
    account_pages,
    actors,
    admin,
    admin_accounts,
    admin_federation,
    admin_settings,
    auth,
    group_pages,
    inboxes,
    keyword_pages,
    moderation_pages,
    objects,
    pages,
    person_posts,
    post_pages,
    remote_groups,
    report_pages,
    wellknown,
)
from fedgroups.web.errors import exception_handlers
from fedgroups.web.inbox_dispatch import InboxDispatch
from fedgroups.web.middleware import InstanceContextMiddleware
from fedgroups.web.sessions import BrowserSessionMiddleware
from fedgroups.web.shared_pages import SharedPages
from fedgroups.web.templating import TEMPLATES_DIR, build_environment
from fedgroups.worker import Worker


@contextlib.asynccontextmanager
async def _in_process_workers(
    app: Starlette, settings: Settings, context: TortoiseContext
) -> AsyncIterator[None]:
    """`serve` runs FEDGROUPS_WORKERS workers beside the web app (0: run `fedgroups worker`)."""
    federation: Federation = app.state.federation
    workers = [
        Worker(
            settings,
            federation.delivery_client,
            federation.prefs,
            make_inbox_processor(federation),
        )
        for _ in range(settings.workers)
    ]
    app.state.worker = _Notifier(workers)
    stop = asyncio.Event()
    with bind_context(context):  # the tasks copy this context: they use this database
        tasks = [asyncio.create_task(worker.run_forever(stop)) for worker in workers]
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


class _Notifier:
    """Wakes the in-process workers when the inbox stores something."""

    def __init__(self, workers: list[Worker]) -> None:
        self._workers = workers

    def notify(self) -> None:
        for worker in self._workers:
            worker.notify()


def create_app(settings: Settings) -> Starlette:
    """Build the app. Nothing is opened until the lifespan starts, so tests can build many."""
    settings = settings.with_secret_key()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        context = await open_database(settings)
        app.state.db = context
        try:
            with bind_context(context):
                instance_actor = await ensure_instance_actor(settings)
            app.state.federation = start_federation(settings, instance_actor)
            try:
                async with _in_process_workers(app, settings, context):
                    yield
            finally:
                await app.state.federation.close()
        finally:
            await context.close_connections()

    app = Starlette(
        routes=[
            *inboxes.routes,  # first: the busiest endpoint matches without trying the others
            *wellknown.routes,
            *actors.routes,
            *objects.routes,
            *person_posts.routes,
            *pages.routes,
            *auth.routes,
            *group_pages.routes,
            *post_pages.routes,
            *moderation_pages.routes,
            *keyword_pages.routes,
            *report_pages.routes,
            *account_pages.routes,
            *admin.routes,
            *admin_federation.routes,
            *admin_accounts.routes,
            *admin_settings.routes,
            *remote_groups.routes,
            Mount("/static", StaticFiles(directory=TEMPLATES_DIR / "static"), name="static"),
        ],
        middleware=[
            # Peers' inbox POSTs skip the browser layer below (web/inbox_dispatch.py).
            Middleware(InboxDispatch, routes=inboxes.routes, handlers=exception_handlers),
            Middleware(InstanceContextMiddleware),
            Middleware(BrowserSessionMiddleware),
        ],
        exception_handlers=exception_handlers,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.templates = build_environment(settings.domain)
    app.state.shared_pages = SharedPages()
    return app
