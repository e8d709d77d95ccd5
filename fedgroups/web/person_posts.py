"""A local person's posts to remote groups, served at their ids for the servers that fetch them.

Plain ActivityStreams JSON: public posts to anyone, others only to whom `groups.visibility`
allows; everyone else gets the same 404 as for an id that never existed.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fedgroups.activitypub.person_activities import render_note
from fedgroups.errors import NotFound
from fedgroups.groups.actors import find_local_actor
from fedgroups.groups.authoring import note_document, readable_post
from fedgroups.groups.writing import note_of, readable_local_post
from fedgroups.models import Actor
from fedgroups.web.negotiation import ActivityJSONResponse, reader_headers, wants_activity_json
from fedgroups.web.viewers import asker


async def person_post(request: Request) -> Response:
    person = await find_local_actor(request.app.state.settings, request.path_params["name"])
    key = request.path_params["key"]
    try:
        post = await readable_post(person, key, asker(request))
    except NotFound:
        return await _post_in_local_group(request, person, key)
    headers = reader_headers(is_private=not post.is_public)
    return ActivityJSONResponse(note_document(post, person), headers=headers)


async def _post_in_local_group(request: Request, person: Actor, key: str) -> Response:
    """A post the person wrote in a group hosted here: the Note, or its thread for browsers."""
    post = await readable_local_post(person, key, asker(request))
    group = post.group
    if not wants_activity_json(request):
        return RedirectResponse(f"/g/{group.slug}/t/{post.id}#p{post.id}", status_code=303)
    document = render_note(note_of(post, person, group))
    headers = reader_headers(is_private=group.is_private or not post.is_public)
    return ActivityJSONResponse(document, headers=headers)


routes = [Route("/u/{name}/posts/{key}", person_post)]
