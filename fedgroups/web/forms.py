"""Forms: CSRF tokens bound to the browser's session, reading posted fields, safe redirects.

A token is an HMAC (FEDGROUPS_SECRET_KEY) of the session's key, or of the pre-session cookie
before login, so a page on another site can neither read nor forge one (T49). Posts whose
Origin names another site are refused too.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from fedgroups.errors import ValidationError
from fedgroups.models import Account
from fedgroups.settings import Settings
from fedgroups.web.sessions import csrf_token
from fedgroups.web.templating import render_page

MAX_FORM_BYTES = 256 * 1024
MAX_FIELD_CHARS = 60_000


class CsrfRejected(Exception):
    """The form did not come from one of our pages: 403, nothing changed."""


class LoginRequired(Exception):
    """The page needs a logged-in member: send the browser to the login page."""


def _foreign_origin(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    if request.headers.get("sec-fetch-site", "") == "cross-site":
        return True
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin == "null"
    return origin.rstrip("/") != settings.base_url


async def read_form(request: Request) -> FormData:
    """The posted form, after the CSRF checks. Raises CsrfRejected (403) otherwise."""
    if request.method != "POST" or _foreign_origin(request):
        raise CsrfRejected
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise CsrfRejected  # text/plain and multipart posts are not ours
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise ValidationError("That form is too large.")
    form = await request.form(max_files=0, max_fields=200)
    token = str(form.get("csrf", ""))
    if not hmac.compare_digest(token.encode(), csrf_token(request).encode()):
        raise CsrfRejected
    return form


def field(form: FormData, name: str, limit: int = MAX_FIELD_CHARS) -> str:
    value = form.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def current_account(request: Request) -> Account:
    """The logged-in account, or LoginRequired."""
    account: Account | None = request.state.account
    if account is None:
        raise LoginRequired
    return account


def safe_next(target: str) -> str:
    """A same-origin path to go to after login; anything else becomes "/" (T42)."""
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or any(ord(c) < 32 for c in target):
        return "/"
    return target


def redirect(path: str) -> Response:
    """After a successful post: 303 See Other, so reloading does not post again."""
    return RedirectResponse(safe_next(path), status_code=303)


def form_page(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """A page with a form, its errors next to their fields and what was typed kept."""
    status = 400 if errors and status_code == 200 else status_code
    full = {**context, "errors": errors or {}, "values": values or {}}
    return render_page(request, template, full, status_code=status)
