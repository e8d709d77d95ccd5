"""Member profile pages: display name, pronouns, bio and the groups shared with the reader."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from fedgroups.errors import NotFound
from fedgroups.groups.people import account_of, shared_groups
from fedgroups.models import Actor
from fedgroups.web.templating import render_page


async def profile_page(request: Request, person: Actor) -> Response:
    account = await account_of(person)
    if account is None or not account.can_log_in:
        raise NotFound("no such person")
    context = {
        "person": person,
        "person_account": account,
        "shared": await shared_groups(person, request.state.viewer),
        "is_self": request.state.viewer is not None and request.state.viewer.id == person.id,
    }
    return render_page(request, "people/profile.html", context)
