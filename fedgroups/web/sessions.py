"""Who is behind a browser request: the session cookie's account, and its CSRF binding.

Runs inside InstanceContextMiddleware (it needs the database). A valid session makes the
account's Person actor the request's viewer, which is what `groups/visibility.py` decides on.
Every browser also gets a random pre-session cookie, so forms shown before login (login and
sign-up themselves) carry CSRF tokens too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from http.cookies import SimpleCookie

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fedgroups.groups.notifications import unread_count
from fedgroups.groups.sessions import account_for_token, session_key
from fedgroups.settings import Settings


def cookie_names(settings: Settings) -> tuple[str, str]:
    """(session, pre-session) cookie names. `__Host-` needs Secure, so https origins only."""
    prefix = "__Host-" if settings.is_https else ""
    return f"{prefix}fedgroups_session", f"{prefix}fedgroups_csrf"


def cookie_header(settings: Settings, name: str, value: str, *, max_age: int | None) -> str:
    """A Set-Cookie value: HttpOnly, SameSite=Lax, Path=/, Secure on https (T50)."""
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if settings.is_https:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts)


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser's forms: an HMAC of its session (or pre-session) key."""
    settings: Settings = request.app.state.settings
    seed: str = request.state.csrf_seed
    digest = hmac.new(settings.secret_key.encode(), f"csrf:{seed}".encode(), hashlib.sha256)
    return digest.hexdigest()


def _cookies(scope: Scope) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: S112 - a malformed Cookie header is treated as none
                continue
    return {name: morsel.value for name, morsel in jar.items()}


class BrowserSessionMiddleware:
    """Sets `state.account`, `state.viewer` and `state.csrf_seed` for each HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings: Settings = scope["app"].state.settings
        session_name, presession_name = cookie_names(settings)
        cookies = _cookies(scope)
        state = scope.setdefault("state", {})
        state["account"] = None
        token = cookies.get(session_name, "")
        account = await account_for_token(token) if token else None
        if account is not None:
            state["account"] = account
            state["viewer"] = account.actor
            state["csrf_seed"] = "s:" + session_key(token)
            state["unread"] = await unread_count(account)
            await self.app(scope, receive, send)
            return
        seed = cookies.get(presession_name, "")
        new_seed = "" if 16 <= len(seed) <= 64 else secrets.token_urlsafe(24)
        state["csrf_seed"] = "a:" + (new_seed or seed)
        if not new_seed:
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                is_page = headers.get("content-type", "").startswith("text/html")
                if not is_page or message["status"] != 200:
                    # Only pages carry forms; error pages stay byte-identical (T54).
                    await send(message)
                    return
                headers.append(
                    "set-cookie", cookie_header(settings, presession_name, new_seed, max_age=None)
                )
            await send(message)

        await self.app(scope, receive, send_with_cookie)
