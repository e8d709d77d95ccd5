"""Who is asking: the one way endpoints learn the viewer that `groups.visibility` decides for.

Two sources, one seam. A logged-in member's session names its actor: the session layer calls
`set_viewer(request, actor)` before the endpoint runs. Otherwise a signed GET names its signer,
verified only when an endpoint asks (`viewer_of`, or lazily through `asker`), so public reads
never pay for a signature check and never fetch a key. The answer is kept for the request.
"""

from __future__ import annotations

from functools import partial

from starlette.requests import Request

from fedgroups.federation.context import Federation
from fedgroups.federation.readers import signed_reader
from fedgroups.groups.visibility import Asker
from fedgroups.models import Actor
from fedgroups.settings import Settings

_CHECKED = "viewer_checked"


def public_url(request: Request) -> str:
    """The URL as the peer saw it: our public origin, whatever proxy sits in between.

    Peers sign this URL, so signature checks must use it rather than the socket's address.
    """
    settings: Settings = request.app.state.settings
    url = f"{settings.base_url}{request.url.path}"
    return f"{url}?{request.url.query}" if request.url.query else url


def set_viewer(request: Request, actor: Actor | None) -> None:
    """Fix the viewer for this request (a logged-in member's session calls this)."""
    request.state.viewer = actor
    setattr(request.state, _CHECKED, True)


async def viewer_of(request: Request) -> Actor | None:
    """The session's actor, else the verified signer of the request, else None (anonymous)."""
    known: Actor | None = getattr(request.state, "viewer", None)
    if known is not None or getattr(request.state, _CHECKED, False):
        return known
    federation: Federation = request.app.state.federation
    actor = await signed_reader(
        request.method, public_url(request), request.headers, federation.remote_actors
    )
    set_viewer(request, actor)
    return actor


def asker(request: Request) -> Asker:
    """The viewer, to be asked for only if a visibility decision depends on it."""
    return partial(viewer_of, request)
