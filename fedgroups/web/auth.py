"""Sign-up, login and logout pages.

Login failures say the same thing whether the name exists or not (T45), and are limited per
client address and per account name (T44); a browser that logged in to the account before is
held to its address's limit only, so guessers elsewhere cannot lock the owner out. A login
always opens a new session (T46).
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedgroups.errors import Conflict, ValidationError
from fedgroups.groups import throttle
from fedgroups.groups.accounts import RegistrationsClosed, authenticate, sign_up
from fedgroups.groups.registrations import registration_mode
from fedgroups.groups.sessions import SESSION_MAX_AGE, close_session, open_session
from fedgroups.models import Account, AccountState
from fedgroups.settings import Settings
from fedgroups.web.forms import field, form_page, read_form, redirect, safe_next
from fedgroups.web.sessions import cookie_header, cookie_names
from fedgroups.web.templating import render_page

DEVICE_MAX_AGE = 365 * 24 * 3600
LOGIN_FAILED = "That username and password do not match an account here."
TOO_MANY = "Too many attempts. Please wait a few minutes and try again."


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _device_cookie(settings: Settings) -> str:
    return ("__Host-" if settings.is_https else "") + "fedgroups_device"


def _device_token(settings: Settings, name_key: str) -> str:
    """Proof that this browser once logged in to `name_key` (an HMAC, nothing to look up)."""
    message = f"device:{name_key}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def _is_known_device(request: Request, name_key: str) -> bool:
    """A browser that logged in to this account before keeps its own per-address limit only."""
    settings = _settings(request)
    presented = request.cookies.get(_device_cookie(settings), "")
    return hmac.compare_digest(presented.encode(), _device_token(settings, name_key).encode())


def client_address(request: Request) -> str:
    # uvicorn already replaced it with X-Forwarded-For only when a trusted proxy sent it.
    return request.client.host if request.client else "unknown"


def logged_in_response(request: Request, account: Account, token: str, target: str) -> Response:
    settings = _settings(request)
    response = redirect(target)
    session_name, _ = cookie_names(settings)
    response.headers.append(
        "set-cookie",
        cookie_header(settings, session_name, token, max_age=int(SESSION_MAX_AGE.total_seconds())),
    )
    return response


async def signup_page(request: Request) -> Response:
    mode = (await registration_mode(_settings(request))).value
    if request.method == "GET":
        return form_page(request, "auth/signup.html", {"mode": mode})
    form = await read_form(request)
    values = {
        "username": field(form, "username", 64).strip(),
        "reason": field(form, "reason", 2000),
    }
    address = client_address(request)
    wait = await throttle.retry_after(throttle.SIGNUP_PER_ADDRESS, address)
    if wait:
        return form_page(
            request, "auth/signup.html", {"mode": mode}, errors={"form": TOO_MANY},
            values=values, status_code=429,
        )  # fmt: skip
    password = field(form, "password", 4096)
    errors: dict[str, str] = {}
    if password != field(form, "password_again", 4096):
        errors["password_again"] = "The two passwords are not the same."  # noqa: S105
    account = None
    if not errors:
        try:
            account = await sign_up(
                _settings(request), values["username"], password, values["reason"]
            )
        except RegistrationsClosed as exc:
            errors["form"] = str(exc)
        except ValidationError as exc:
            errors[exc.field or "form"] = str(exc)
        except Conflict:
            # Handles are public (WebFinger), so saying so reveals nothing new.
            errors["username"] = "That name is taken. Please choose another."
    if account is None:
        return form_page(request, "auth/signup.html", {"mode": mode}, errors=errors, values=values)
    await throttle.record(throttle.SIGNUP_PER_ADDRESS, address)
    if account.state == AccountState.PENDING:
        return render_page(request, "auth/signup_pending.html", {})
    token = await open_session(account)
    return logged_in_response(request, account, token, "/")


async def login_page(request: Request) -> Response:
    target = safe_next(request.query_params.get("next", "/"))
    context = {"next": target}
    if request.method == "GET":
        return form_page(request, "auth/login.html", context)
    form = await read_form(request)
    username = field(form, "username", 64).strip()
    values = {"username": username}
    address, name_key = client_address(request), username.lower()
    waits = [await throttle.retry_after(throttle.LOGIN_PER_ADDRESS, address)]
    if not _is_known_device(request, name_key):  # T44: guessers cannot lock the owner out
        waits.append(await throttle.retry_after(throttle.LOGIN_PER_ACCOUNT, name_key))
    if any(waits):
        response = form_page(
            request, "auth/login.html", context, errors={"form": TOO_MANY}, values=values,
            status_code=429,
        )  # fmt: skip
        response.headers["Retry-After"] = str(max(waits))
        return response
    account = await authenticate(_settings(request), username, field(form, "password", 4096))
    if account is None:
        await throttle.record(throttle.LOGIN_PER_ADDRESS, address)
        await throttle.record(throttle.LOGIN_PER_ACCOUNT, name_key)
        return form_page(
            request, "auth/login.html", context, errors={"form": LOGIN_FAILED}, values=values
        )
    if not account.can_log_in:
        message = (
            "Your sign-up is waiting for an admin's approval."
            if account.state == AccountState.PENDING
            else "This account is suspended."
            if account.is_suspended
            else "This account cannot log in."
        )
        return form_page(
            request, "auth/login.html", context, errors={"form": message}, values=values
        )
    token = await open_session(account)
    response = logged_in_response(request, account, token, safe_next(field(form, "next", 2000)))
    settings = _settings(request)
    response.headers.append(
        "set-cookie",
        cookie_header(
            settings, _device_cookie(settings), _device_token(settings, name_key),
            max_age=DEVICE_MAX_AGE,
        ),
    )  # fmt: skip
    return response


async def logout(request: Request) -> Response:
    await read_form(request)
    settings = _settings(request)
    session_name, _ = cookie_names(settings)
    token = request.cookies.get(session_name, "")
    if token:
        await close_session(token)
    response = redirect("/")
    response.headers.append("set-cookie", cookie_header(settings, session_name, "", max_age=0))
    return response


routes = [
    Route("/signup", signup_page, methods=["GET", "POST"]),
    Route("/login", login_page, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
]
