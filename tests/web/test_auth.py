"""Sign-up by registration mode, login, logout and sessions, CSRF on the forms (T44-T50)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from fedgroups.app import create_app
from fedgroups.db import bind_context
from fedgroups.models import Account, AccountState, Session
from fedgroups.settings import Settings
from tests.conftest import make_settings
from tests.factories import make_account, make_group, make_remote_actor
from tests.web.browsing import PASSWORD, csrf_of, log_in, post_form, sign_up

SESSION = "__Host-fedgroups_session"


async def test_open_sign_up_logs_the_new_member_in(client: httpx.AsyncClient) -> None:
    response = await sign_up(client, "willow")
    assert response.status_code == 303
    assert SESSION in response.cookies
    home = await client.get("/")
    assert "Log out" in home.text and 'href="/u/willow"' in home.text
    account = await Account.get(actor__username="willow")
    assert account.state == AccountState.ACTIVE
    assert account.password_hash.startswith("$argon2")


async def test_sign_up_errors_stay_next_to_their_fields(client: httpx.AsyncClient) -> None:
    response = await sign_up(client, "bad name!", password="short")
    assert response.status_code == 400
    assert 'id="f-username-error"' in response.text
    assert 'value="bad name!"' in response.text  # what was typed is kept
    await make_account(client._transport.app.state.settings, "taken")  # type: ignore[attr-defined]
    response = await sign_up(client, "taken")
    assert "That name is taken" in response.text


async def test_cookies_are_http_only_lax_and_secure(client: httpx.AsyncClient) -> None:
    response = await sign_up(client, "willow")
    cookie = next(v for v in response.headers.get_list("set-cookie") if v.startswith(SESSION))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


@pytest.fixture
async def approval_client(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(database_url, tmp_path / "d", FEDGROUPS_REGISTRATIONS="approval")
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        with bind_context(application.state.db):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as http:
                yield http


async def test_approval_mode_asks_for_a_reason_and_waits(
    approval_client: httpx.AsyncClient,
) -> None:
    response = await sign_up(approval_client, "fern")
    assert response.status_code == 400 and 'id="f-reason-error"' in response.text
    response = await sign_up(approval_client, "fern", reason="I lost my dad last spring")
    assert response.status_code == 200 and "An admin will read it" in response.text
    assert SESSION not in response.cookies
    account = await Account.get(actor__username="fern")
    assert account.state == AccountState.PENDING
    login = await log_in(approval_client, "fern")
    assert "waiting for an admin" in login.text
    ap = {"Accept": "application/activity+json"}
    assert (await approval_client.get("/u/fern", headers=ap)).status_code == 404
    assert await Session.all().count() == 0


async def test_closed_mode_takes_no_sign_ups(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url, tmp_path / "d", FEDGROUPS_REGISTRATIONS="closed")
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        with bind_context(application.state.db):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as http:
                page = await http.get("/signup")
                assert "not taking new sign-ups" in page.text
                token = csrf_of((await http.get("/login")).text)
                response = await http.post(
                    "/signup",
                    data={"csrf": token, "username": "x1", "password": PASSWORD,
                          "password_again": PASSWORD},
                )  # fmt: skip
                assert response.status_code == 400
                assert await Account.all().count() == 0


async def test_login_failure_does_not_tell_which_part_was_wrong(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_account(settings, "lena")
    wrong_password = await log_in(client, "lena", "not her password")
    unknown_name = await log_in(client, "nobody-here", "not her password")
    assert wrong_password.status_code == unknown_name.status_code == 400
    strip = lambda text: text.replace('value="lena"', "").replace('value="nobody-here"', "")  # noqa: E731
    assert strip(wrong_password.text) == strip(unknown_name.text)
    assert SESSION not in wrong_password.cookies


async def test_login_opens_a_new_session_and_logout_ends_it(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_account(settings, "lena")
    before = dict(client.cookies)
    response = await log_in(client, "lena")
    assert response.status_code == 303
    token = response.cookies[SESSION]
    assert token not in before.values()  # T46: nothing the browser had before becomes the session
    assert "Log out" in (await client.get("/")).text
    logout = await post_form(client, "/", "/logout", {})
    assert logout.status_code == 303
    # T47: the copied cookie is dead.
    async with httpx.AsyncClient(
        transport=client._transport, base_url=settings.base_url, cookies={SESSION: token}
    ) as thief:
        assert "Log out" not in (await thief.get("/")).text
    assert await Session.all().count() == 0


async def test_forms_need_a_token_from_this_browser(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_account(settings, "lena")
    data = {"username": "lena", "password": PASSWORD}
    assert (await client.post("/login", data=data)).status_code == 403
    token = csrf_of((await client.get("/login")).text)
    foreign = await client.post(
        "/login", data={"csrf": token, **data}, headers={"Origin": "https://evil.test"}
    )
    assert foreign.status_code == 403
    as_text = await client.post(
        "/login",
        content=f"csrf={token}&username=lena&password=x",
        headers={"Content-Type": "text/plain"},
    )
    assert as_text.status_code == 403
    async with httpx.AsyncClient(transport=client._transport, base_url=settings.base_url) as other:
        other_token = csrf_of((await other.get("/login")).text)
    assert (await client.post("/login", data={"csrf": other_token, **data})).status_code == 403
    assert await Session.all().count() == 0
    assert (await client.post("/login", data={"csrf": token, **data})).status_code == 303


async def test_logins_are_rate_limited(client: httpx.AsyncClient, settings: Settings) -> None:
    await make_account(settings, "lena")
    for _ in range(10):
        assert (await log_in(client, "lena", "guess guess")).status_code == 400
    blocked = await log_in(client, "lena")  # even the right password waits now
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert SESSION not in blocked.cookies


@pytest.mark.parametrize(
    "target", ["https://evil.test/", "//evil.test/", "/\\evil.test", "https:evil.test"]
)
async def test_login_only_returns_to_this_site(
    client: httpx.AsyncClient, settings: Settings, target: str
) -> None:
    await make_account(settings, "lena")
    page = await client.get("/login", params={"next": target})
    response = await client.post(
        "/login",
        data={"csrf": csrf_of(page.text), "username": "lena", "password": PASSWORD, "next": target},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


async def test_pages_send_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/login")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_every_form_route_refuses_posts_without_a_token(
    app: Starlette, client: httpx.AsyncClient, settings: Settings
) -> None:
    """T49: enumerated from the router, so a new form route without the check fails here."""
    from fedgroups.models import (
        Actor,
        ActorKind,
        GroupSubscription,
        GroupSubscriptionState,
        Membership,
        MembershipState,
        Post,
        RemoteGroupPost,
    )

    await make_account(settings, "maria", admin=True)
    group = await make_group(settings, "recovery", owner="maria")
    await log_in(client, "maria")
    await post_form(client, "/g/recovery/compose", None, {"body": "hello"})
    post = await Post.get()
    before = (
        await Membership.filter(state=MembershipState.APPROVED).count(),
        await Post.all().count(),
    )
    remote = await make_remote_actor("https://peer.test", "circle")
    remote.kind = ActorKind.GROUP
    await remote.save()
    maria = await Actor.get(username="maria")
    await GroupSubscription.create(
        actor=maria, group_actor=remote, state=GroupSubscriptionState.ACCEPTED
    )
    carried = await RemoteGroupPost.create(
        ap_id="https://peer.test/p/1", group_actor=remote, author=remote,
        announced_at=datetime.now(UTC), published_at=datetime.now(UTC),
    )  # fmt: skip
    local = {
        "slug": group.slug, "post_id": str(post.id), "report_id": "1",
        "change": "block", "verb": "suspend",
    }  # fmt: skip
    elsewhere = {"group_id": str(remote.id), "post_id": str(carried.id)}
    checked = []
    for route in app.routes:
        methods = getattr(route, "methods", None) or set()
        path = getattr(route, "path", "")
        if "POST" not in methods or path.endswith("inbox"):
            continue  # inboxes take signed activities from servers, not forms
        params = elsewhere if path.startswith("/r/") else local
        url = re.sub(r"\{(\w+)(:\w+)?\}", lambda m, p=params: p[m.group(1)], path)
        response = await client.post(url, data={"body": "x", "display_name": "pwned"})
        assert response.status_code == 403, url
        checked.append(url)
    assert len(checked) >= 16
    after = (
        await Membership.filter(state=MembershipState.APPROVED).count(),
        await Post.all().count(),
    )
    assert before == after
    assert "Log out" in (await client.get("/")).text  # not even logged out


async def test_guessing_from_many_addresses_stops_but_the_owner_still_gets_in(
    app: Starlette, settings: Settings
) -> None:
    """T44: per-account limit across addresses; a browser that logged in before is exempt."""
    await make_account(settings, "lena")

    def browser(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url=settings.base_url)

    async with browser("192.0.2.1") as owner:
        assert (await log_in(owner, "lena")).status_code == 303
        await post_form(owner, "/", "/logout", {})
        for number in range(3):
            async with browser(f"198.51.100.{number}") as guesser:
                for _ in range(10):
                    assert (await log_in(guesser, "lena", "wrong guess")).status_code == 400
        async with browser("203.0.113.9") as stranger:
            assert (await log_in(stranger, "lena")).status_code == 429
        assert (await log_in(owner, "lena")).status_code == 303
