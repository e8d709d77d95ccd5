"""Running an instance under uvicorn, announcing the URL once it accepts connections."""

from __future__ import annotations

import sys

import uvicorn

from fedgroups.app import create_app
from fedgroups.heap import settle_heap
from fedgroups.settings import Settings


class _AnnouncingServer(uvicorn.Server):
    """uvicorn binds after the lifespan starts; print the URL only once both are done."""

    def __init__(self, config: uvicorn.Config, base_url: str) -> None:
        super().__init__(config)
        self._base_url = base_url

    async def startup(self, sockets: list[object] | None = None) -> None:  # type: ignore[override]
        await super().startup(sockets=sockets)  # type: ignore[arg-type]
        if self.started:
            settle_heap()  # what start-up built lives as long as the process
            host, port = self.config.host, self.config.port
            print(f"fedgroups serving {self._base_url} on http://{host}:{port}", flush=True)


def serve(settings: Settings, *, host: str, port: int) -> None:
    """Serve until interrupted. Workers run inside the app's lifespan."""
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        lifespan="on",
    )
    server = _AnnouncingServer(config, settings.base_url)
    server.run()
    if not server.started:
        sys.exit(1)
