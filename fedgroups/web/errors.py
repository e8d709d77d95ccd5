"""Map the error tree to HTTP answers: JSON for servers, a page for people.

NotFound gives the same answer whether a thing never existed or is hidden from the asker.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from fedgroups.errors import Conflict, NotFound, ValidationError
from fedgroups.web.forms import CsrfRejected, LoginRequired
from fedgroups.web.negotiation import JSONResponse, reader_headers, wants_activity_json
from fedgroups.web.templating import render_page

_STATUS = {NotFound: 404, ValidationError: 400, Conflict: 409}
_TITLES = {404: "Not found", 400: "Bad request", 409: "Already exists"}


async def handle_known_error(request: Request, exc: Exception) -> Response:
    status = next(code for kind, code in _STATUS.items() if isinstance(exc, kind))
    message = _TITLES[status] if status == 404 else str(exc)
    if wants_activity_json(request) or request.url.path.startswith(("/.well-known", "/nodeinfo")):
        response: Response = JSONResponse({"error": message}, status_code=status)
    else:
        response = render_page(
            request, "errors/error.html", {"status": status, "message": message}, status_code=status
        )
    if status == 404:
        # Every 404 is the same, hidden or unknown: the headers of a members-only answer too,
        # so no header tells them apart and no cache serves a member the anonymous answer.
        response.headers.update(reader_headers(is_private=True))
    return response


async def handle_csrf(request: Request, exc: Exception) -> Response:
    """A form that did not come from our own page (T49): refused, nothing changed."""
    context = {"status": 403, "message": "This form has expired or did not come from this site"}
    return render_page(request, "errors/error.html", context, status_code=403)


async def handle_login_required(request: Request, exc: Exception) -> Response:
    target = request.url.path if request.method == "GET" else "/"
    if request.url.query and request.method == "GET":
        target = f"{target}?{request.url.query}"
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


exception_handlers = {
    **{kind: handle_known_error for kind in _STATUS},
    CsrfRejected: handle_csrf,
    LoginRequired: handle_login_required,
}
