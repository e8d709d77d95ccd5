"""Inbox endpoints (shared and per actor): read a bounded body, hand it to the inbox, answer."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedgroups.errors import (
    BlockedDomain,
    KeyUnavailable,
    MalformedActivity,
    OriginMismatch,
    SignatureError,
    StoreUnavailable,
)
from fedgroups.federation.context import Federation
from fedgroups.federation.inbox import MAX_BODY_BYTES, receive_activity
from fedgroups.groups.actors import find_local_actor
from fedgroups.groups.directory import find_group
from fedgroups.web.negotiation import JSONResponse
from fedgroups.web.viewers import public_url


class _TooLarge(Exception):
    pass


async def _read_body(request: Request) -> bytes:
    """The raw body, refusing more than MAX_BODY_BYTES before reading it all (T29)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _problem(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


async def _receive(request: Request) -> Response:
    federation: Federation = request.app.state.federation
    if request.headers.get("content-encoding", "identity").lower() != "identity":
        return _problem(415, "compressed bodies are not accepted")  # T34
    try:
        body = await _read_body(request)
    except _TooLarge:
        return _problem(413, f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        await receive_activity(
            request.method, public_url(request), request.headers, body, federation
        )
    except MalformedActivity as exc:
        return _problem(400, str(exc))
    except (SignatureError, OriginMismatch) as exc:
        return _problem(401, str(exc))
    except BlockedDomain:
        return Response(status_code=202)
    except KeyUnavailable:
        # The sender should retry: its key host could not be reached (Mastodon 4.5.4+).
        return _problem(503, "could not fetch the signing key; try again later")
    except StoreUnavailable:
        return _problem(503, "could not store the activity; try again later")
    return Response(status_code=202)  # the middleware wakes the workers once it is sent


async def shared_inbox(request: Request) -> Response:
    return await _receive(request)


async def group_inbox(request: Request) -> Response:
    await find_group(request.path_params["slug"])  # 404 for unknown groups
    return await _receive(request)


async def person_inbox(request: Request) -> Response:
    await find_local_actor(request.app.state.settings, request.path_params["name"])
    return await _receive(request)


routes = [
    Route("/inbox", shared_inbox, methods=["POST"]),
    Route("/g/{slug}/inbox", group_inbox, methods=["POST"]),
    Route("/u/{name}/inbox", person_inbox, methods=["POST"]),
]
