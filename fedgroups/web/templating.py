"""The jinja2 environment: autoescaped templates from `templates/`, one per page."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from fedgroups.web.sessions import csrf_token

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"

# T40: no inline scripts or styles, no framing, no forms posting elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "private, no-cache",
    "Vary": "Cookie, Accept",
}


def local_time(moment: datetime | None, zone: ZoneInfo) -> Markup:
    """A <time> in the reader's zone; the machine-readable value stays in UTC."""
    if moment is None:
        return Markup("")
    utc = moment.astimezone(UTC)
    shown = moment.astimezone(zone)
    label = shown.strftime("%-d %b %Y, %H:%M") + " " + (shown.tzname() or "")
    return Markup('<time datetime="{}">{}</time>').format(
        utc.strftime("%Y-%m-%dT%H:%M:%SZ"), escape(label.strip())
    )


def build_environment(instance_name: str) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        enable_async=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["instance_name"] = instance_name
    environment.filters["local"] = local_time
    return environment


def _reader_zone(request: Request) -> ZoneInfo:
    account = getattr(request.state, "account", None)
    try:
        return ZoneInfo(account.time_zone if account is not None else "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def render_page(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    """Render one page. Pages get their data from the endpoint; templates run no queries."""
    environment: Environment = request.app.state.templates
    has_session = hasattr(request.state, "csrf_seed")
    html = environment.get_template(template).render(
        request=request,
        account=getattr(request.state, "account", None),
        csrf=csrf_token(request) if has_session else "",
        tz=_reader_zone(request),
        unread=getattr(request.state, "unread", 0),
        **context,
    )
    return html_response(request, html, status_code=status_code)


def render_anonymous(request: Request, template: str, context: dict[str, Any]) -> str:
    """A page as anyone not logged in sees it, nothing of this browser's in it (no CSRF token),
    so that one copy may serve every such reader."""
    environment: Environment = request.app.state.templates
    return environment.get_template(template).render(
        request=None, account=None, csrf="", tz=ZoneInfo("UTC"), unread=0, **context
    )


def html_response(request: Request, html: str, *, status_code: int = 200) -> HTMLResponse:
    response = HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
    if request.app.state.settings.is_https:  # T50: browsers keep to https from then on
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    return response
