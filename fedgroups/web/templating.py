"""The jinja2 environment: autoescaped templates from `templates/`, one per page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"


def build_environment(instance_name: str) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        enable_async=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["instance_name"] = instance_name
    return environment


def render_page(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    """Render one page. Pages get their data from the endpoint; templates run no queries."""
    environment: Environment = request.app.state.templates
    html = environment.get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=status_code)
