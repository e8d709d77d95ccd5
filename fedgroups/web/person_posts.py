"""A local person's posts to remote groups, served at their ids for the servers that fetch them.

Plain ActivityStreams JSON: public posts to anyone, others only to whom `groups.visibility`
allows; everyone else gets the same 404 as for an id that never existed.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedgroups.groups.actors import find_local_actor
from fedgroups.groups.authoring import note_document, readable_post
from fedgroups.web.negotiation import ActivityJSONResponse, reader_headers
from fedgroups.web.viewers import asker


async def person_post(request: Request) -> Response:
    person = await find_local_actor(request.app.state.settings, request.path_params["name"])
    post = await readable_post(person, request.path_params["key"], asker(request))
    headers = reader_headers(is_private=not post.is_public)
    return ActivityJSONResponse(note_document(post, person), headers=headers)


routes = [Route("/u/{name}/posts/{key}", person_post)]
