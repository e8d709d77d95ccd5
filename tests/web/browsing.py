"""Helpers for driving the pages like a browser does: read CSRF tokens, post forms, log in."""

from __future__ import annotations

import re

import httpx

_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
PASSWORD = "correct horse battery"


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


async def post_form(
    client: httpx.AsyncClient, page: str, action: str | None, data: dict[str, str]
) -> httpx.Response:
    """GET `page` for its token, then POST `data` to `action` (default: the page itself)."""
    token = csrf_of((await client.get(page)).text)
    return await client.post(action or page, data={"csrf": token, **data})


async def log_in(client: httpx.AsyncClient, name: str, password: str = PASSWORD) -> httpx.Response:
    return await post_form(client, "/login", None, {"username": name, "password": password})


async def sign_up(
    client: httpx.AsyncClient, name: str, password: str = PASSWORD, **extra: str
) -> httpx.Response:
    data = {"username": name, "password": password, "password_again": password, **extra}
    return await post_form(client, "/signup", None, data)
