"""Discovery endpoints: WebFinger, host-meta and NodeInfo, as Mastodon, Lemmy and Fedify expect."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedgroups import __version__
from fedgroups.activitypub import nodeinfo, webfinger
from fedgroups.activitypub.vocabulary import XRD_XML
from fedgroups.errors import NotFound
from fedgroups.groups.actors import INSTANCE_ACTOR_PATH, find_local_actor
from fedgroups.groups.directory import node_stats
from fedgroups.groups.registrations import registration_mode
from fedgroups.models import Actor, ActorKind, RegistrationMode
from fedgroups.settings import Settings
from fedgroups.web.negotiation import JRDResponse, JSONResponse

# Peers cache WebFinger answers; keep it short so renames and moves propagate.
_DISCOVERY_CACHE = {"Access-Control-Allow-Origin": "*", "Cache-Control": "max-age=3600"}


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status, headers=_DISCOVERY_CACHE)


async def _actor_for(settings: Settings, query: webfinger.WebfingerQuery) -> Actor:
    if query.username is not None:
        return await find_local_actor(settings, query.username)
    url = (query.url or "").rstrip("/")
    if url == settings.base_url:  # FEP-d556: the instance itself stands for its actor
        url = f"{settings.base_url}{INSTANCE_ACTOR_PATH}"
    actor = await Actor.get_or_none(ap_id=url, is_local=True, gone_at=None)
    if actor is None:
        raise NotFound(url)
    return actor


async def webfinger_endpoint(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    resource = request.query_params.get("resource", "")
    try:
        query = webfinger.parse_resource(resource, settings.domain)
    except ValueError as exc:
        return _error(400, str(exc))
    if query is None:
        return _error(404, "not a resource of this instance")
    try:
        actor = await _actor_for(settings, query)
    except NotFound:
        return _error(404, "no such account")
    profile_url = actor.ap_id if actor.kind != ActorKind.APPLICATION else actor.url
    document = webfinger.render_webfinger(
        actor.username, settings.domain, actor.ap_id, profile_url, actor.kind.value
    )
    return JRDResponse(document, headers=_DISCOVERY_CACHE)


async def host_meta(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    accept = request.headers.get("accept", "")
    if "json" in accept and "xml" not in accept:
        return JRDResponse(
            webfinger.render_host_meta_json(settings.base_url), headers=_DISCOVERY_CACHE
        )
    return Response(
        webfinger.render_host_meta_xml(settings.base_url),
        media_type=XRD_XML,
        headers=_DISCOVERY_CACHE,
    )


async def nodeinfo_discovery(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    document = nodeinfo.render_discovery(
        settings.base_url, f"{settings.base_url}{INSTANCE_ACTOR_PATH}"
    )
    return JSONResponse(document, headers=_DISCOVERY_CACHE)


async def nodeinfo_document(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    version = request.path_params["version"]
    if version not in ("2.0", "2.1"):
        return _error(404, "unknown NodeInfo version")
    document = nodeinfo.render_nodeinfo(
        version,
        __version__,
        await node_stats(),
        open_registrations=await registration_mode(settings) == RegistrationMode.OPEN,
        node_name=settings.domain,
    )
    response = JSONResponse(document, headers={"Access-Control-Allow-Origin": "*"})
    response.headers["content-type"] = nodeinfo.content_type(version)
    return response


routes = [
    Route("/.well-known/webfinger", webfinger_endpoint),
    Route("/.well-known/host-meta", host_meta),
    Route("/.well-known/nodeinfo", nodeinfo_discovery),
    Route("/nodeinfo/{version}", nodeinfo_document),
]
