"""The raw limit for ingest: the smallest verify-and-insert inbox this stack can serve.

starlette + uvicorn, a hand-written draft-cavage check with parsed keys held in a dict, one
tortoise insert of the same `inbox_items` row, 202. No origin checks, blocks or replays: what
fedgroups adds on top of this is what the ingest ratio measures.
Run: python -m bench.rawinbox DATABASE_URL PORT
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.fixtures import bench_settings
from fedgroups.db import bind_context, open_database
from fedgroups.models import Actor, InboxItem
from fedgroups.web.middleware import InstanceContextMiddleware

_PARAM = re.compile(r'(\w+)="([^"]*)"')
KEYS: dict[str, Any] = {}


def _verified(request: Request, body: bytes) -> bool:
    params = dict(_PARAM.findall(request.headers.get("signature", "")))
    key = KEYS.get(params.get("keyId", ""))
    if key is None or "signature" not in params:
        return False
    age = datetime.now(UTC) - parsedate_to_datetime(request.headers["date"])
    if abs(age.total_seconds()) > 3600:
        return False
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    if request.headers.get("digest") != digest:
        return False
    lines = []
    for name in params.get("headers", "date").split():
        if name == "(request-target)":
            lines.append(f"(request-target): post {request.url.path}")
        else:
            lines.append(f"{name}: {request.headers.get(name, '')}")
    try:
        key.verify(
            base64.b64decode(params["signature"]),
            "\n".join(lines).encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except InvalidSignature:
        return False
    return True


async def inbox(request: Request) -> Response:
    body = await request.body()
    if not _verified(request, body):
        return Response(status_code=401)
    activity = orjson.loads(body)
    await InboxItem.create(
        activity_ap_id=activity["id"],
        activity_type=activity["type"],
        actor_ap_id=activity["actor"],
        signer_key_id=activity["actor"] + "#main-key",
        recipient=str(request.url),
        body=activity,
        run_at=datetime.now(UTC),
    )
    return Response(status_code=202)


def build_app(database_url: str) -> Starlette:
    settings = bench_settings("http://127.0.0.1", database_url, Path("."))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        context = await open_database(settings)
        app.state.db = context
        with bind_context(context):
            for actor in await Actor.filter(is_local=False):
                KEYS[actor.public_key_id] = load_pem_public_key(actor.public_key_pem.encode())
        try:
            yield
        finally:
            await context.close_connections()

    return Starlette(
        routes=[Route("/inbox", inbox, methods=["POST"])],
        middleware=[Middleware(InstanceContextMiddleware)],
        lifespan=lifespan,
    )


class _Announcing(uvicorn.Server):
    async def startup(self, sockets: list[Any] | None = None) -> None:
        await super().startup(sockets=sockets)
        print("READY {}", flush=True)


def main() -> None:
    database_url, port = sys.argv[1], int(sys.argv[2])
    config = uvicorn.Config(
        build_app(database_url), host="127.0.0.1", port=port, log_level="warning"
    )
    _Announcing(config).run()


if __name__ == "__main__":
    main()
