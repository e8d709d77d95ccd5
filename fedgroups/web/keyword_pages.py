"""The instance's own keyword rules, for admins: words or phrases that hold or refuse posts in
every group here, beside each group's own rules (`fedgroups keyword add` without `--group`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedgroups.errors import NotFound, ValidationError
from fedgroups.groups.modlog import Acting
from fedgroups.groups.screening import add_keyword, keyword_rules, remove_keyword
from fedgroups.models import KeywordAction
from fedgroups.web.admin import require_admin
from fedgroups.web.forms import field, form_page, read_form, redirect

PAGE = "/admin/keywords"


async def _page(request: Request, errors: dict[str, str] | None = None) -> Response:
    context = {"section": "keywords", "keywords": await keyword_rules(None)}
    return form_page(request, "moderation/instance_keywords.html", context, errors=errors)


async def keywords_page(request: Request) -> Response:
    """GET lists the rules; POST adds (hold or refuse) or removes one."""
    if request.method == "GET":
        require_admin(request)
        return await _page(request)
    form = await read_form(request)  # CSRF first: a forged post learns nothing
    admin = require_admin(request)
    phrase, change = field(form, "phrase", 200), field(form, "change", 10)
    acting = Acting(moderator=admin.actor)
    try:
        if change == "remove":
            await remove_keyword(None, phrase, acting)
        else:
            action = KeywordAction.REJECT if change == "reject" else KeywordAction.HOLD
            await add_keyword(None, phrase, action, acting)
    except (ValidationError, NotFound) as exc:
        return await _page(request, errors={"keywords": str(exc)})
    return redirect(PAGE)


routes = [Route(PAGE, keywords_page, methods=["GET", "POST"])]
