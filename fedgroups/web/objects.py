"""ActivityPub GETs of what our groups publish: their activities and their own Notes.

Everything is served at exactly its id. Who may read it is decided in `groups.visibility`;
anything hidden gets the very same 404 as an id that never existed.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedgroups.activitypub.notes import render_group_note
from fedgroups.errors import NotFound
from fedgroups.groups import visibility
from fedgroups.groups.directory import find_group
from fedgroups.groups.republish import group_note
from fedgroups.models import Group
from fedgroups.web.negotiation import ActivityJSONResponse, reader_headers, wants_activity_json
from fedgroups.web.viewers import asker


async def _group_for_json(request: Request) -> Group:
    # No page for single objects yet: a browser gets the same 404 whatever exists.
    if not wants_activity_json(request):
        raise NotFound("no such page")
    return await find_group(request.path_params["slug"])


async def group_activity(request: Request) -> Response:
    """An activity exactly as the group sent it (the bytes every recipient received)."""
    group = await _group_for_json(request)
    ap_id = f"{group.actor.ap_id}/activities/{request.path_params['token']}"
    activity = await visibility.visible_activity(group, ap_id, asker(request))
    if activity is None:
        raise NotFound("no such activity")
    is_private = group.is_private or not activity.is_public
    return ActivityJSONResponse(activity.payload, headers=reader_headers(is_private=is_private))


async def group_post(request: Request) -> Response:
    """A Note the group published under its own name (members-only groups republish posts)."""
    group = await _group_for_json(request)
    ap_id = f"{group.actor.ap_id}/posts/{request.path_params['token']}"
    post = await visibility.visible_group_note(group, ap_id, asker(request))
    if post is None:
        raise NotFound("no such post")
    document = render_group_note(group_note(group, post))
    return ActivityJSONResponse(document, headers=reader_headers(is_private=group.is_private))


routes = [
    Route("/g/{slug}/activities/{token}", group_activity),
    Route("/g/{slug}/posts/{token}", group_post),
]
