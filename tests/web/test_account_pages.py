"""A member's own pages: profile, settings, password change (T48), deletion, admin approvals."""

from __future__ import annotations

import httpx

from fedgroups.models import (
    Account,
    AccountState,
    Actor,
    Membership,
    MembershipState,
    OutboxActivity,
    Post,
    Session,
)
from fedgroups.settings import Settings
from tests.factories import make_account, make_group, make_remote_actor
from tests.web.browsing import PASSWORD, log_in, post_form
from tests.web.test_group_pages import new_client

SESSION = "__Host-fedgroups_session"


async def test_profile_shows_pronouns_bio_and_only_shared_groups(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_account(settings, "lena")
    await make_account(settings, "ben")
    await make_group(settings, "recovery")
    await make_group(settings, "secret-circle", private=True)
    await log_in(client, "lena")
    saved = await post_form(
        client, "/settings", "/settings/profile",
        {"display_name": "Lena <b>L</b>", "pronouns": "she/her", "bio": "Walks a lot.",
         "time_zone": "Europe/Berlin"},
    )  # fmt: skip
    assert saved.status_code == 303
    await post_form(client, "/g/recovery", "/g/recovery/join", {})
    lena = await Actor.get(username="lena")
    group = await Membership.filter(actor=lena).first().prefetch_related("group")
    assert group is not None
    secret = await make_group(settings, "other", private=True)
    await Membership.create(group=secret, actor=lena, state=MembershipState.APPROVED)
    async with new_client(client, settings) as ben:
        anonymous = await ben.get("/u/lena")
        assert "Lena &lt;b&gt;L&lt;/b&gt;" in anonymous.text and "she/her" in anonymous.text
        assert "/g/recovery" not in anonymous.text  # T66: no groups for outsiders
        await log_in(ben, "ben")
        await post_form(ben, "/g/recovery", "/g/recovery/join", {})
        page = await ben.get("/u/lena")
        assert "/g/recovery" in page.text and "/g/other" not in page.text
    json = await client.get("/u/lena", headers={"Accept": "application/activity+json"})
    assert json.json()["name"] == "Lena <b>L</b>"


async def test_profile_errors_keep_what_was_typed(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_account(settings, "lena")
    await log_in(client, "lena")
    response = await post_form(
        client, "/settings", "/settings/profile",
        {"display_name": "Lena", "pronouns": "p" * 80, "bio": "kept", "time_zone": "Mars/Base"},
    )  # fmt: skip
    assert response.status_code == 400
    assert 'id="f-pronouns-error"' in response.text and "kept</textarea>" in response.text


async def test_timestamps_follow_the_readers_time_zone(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_account(settings, "lena")
    await make_group(settings, "recovery")
    await log_in(client, "lena")
    await post_form(client, "/g/recovery", "/g/recovery/join", {})
    await post_form(client, "/g/recovery/compose", None, {"body": "hello"})
    assert " UTC</time>" in (await client.get("/g/recovery")).text
    await post_form(
        client, "/settings", "/settings/profile",
        {"display_name": "", "pronouns": "", "bio": "", "time_zone": "Asia/Tokyo"},
    )  # fmt: skip
    page = (await client.get("/g/recovery")).text
    assert " JST</time>" in page and 'datetime="' in page


async def test_new_password_logs_out_every_other_session(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_account(settings, "lena")
    async with new_client(client, settings) as stolen:
        await log_in(stolen, "lena")
        await log_in(client, "lena")
        wrong = await post_form(
            client, "/settings", "/settings/password",
            {"current_password": "nope nope", "new_password": "a brand new one",
             "new_password_again": "a brand new one"},
        )  # fmt: skip
        assert wrong.status_code == 400 and 'id="f-current_password-error"' in wrong.text
        changed = await post_form(
            client, "/settings", "/settings/password",
            {"current_password": PASSWORD, "new_password": "a brand new one",
             "new_password_again": "a brand new one"},
        )  # fmt: skip
        assert changed.status_code == 303
        assert "Log out" not in (await stolen.get("/")).text  # T48
        assert "Log out" in (await client.get("/settings")).text
        assert await Session.all().count() == 1


async def test_deleting_the_account_federates_a_delete(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_account(settings, "lena")
    group = await make_group(settings, "recovery")
    remote = await make_remote_actor("https://peer.test")
    await Membership.create(group=group, actor=remote, state=MembershipState.APPROVED)
    await log_in(client, "lena")
    await post_form(client, "/g/recovery", "/g/recovery/join", {})
    await post_form(client, "/g/recovery/compose", None, {"body": "my words"})
    refused = await post_form(client, "/settings", "/settings/delete", {"delete_password": "x"})
    assert refused.status_code == 400 and await Account.exists(actor__username="lena")
    deleted = await post_form(
        client, "/settings", "/settings/delete", {"delete_password": PASSWORD}
    )
    assert deleted.status_code == 200
    assert not await Account.exists(actor__username="lena")
    lena = await Actor.get(username="lena")
    assert lena.gone_at is not None
    delete = await OutboxActivity.get(activity_type="Delete")
    assert delete.payload["object"] == lena.ap_id
    assert await delete.deliveries.all().values_list("inbox_url", flat=True) == [
        "https://peer.test/inbox"
    ]
    post = await Post.get(author=lena)
    assert post.deleted_at is not None and post.content == ""
    assert (await client.get("/u/lena")).status_code == 404
    assert (await log_in(client, "lena")).status_code == 400


async def test_admin_approves_sign_ups(client: httpx.AsyncClient, settings: Settings) -> None:
    await make_account(settings, "maria", admin=True)
    await make_account(settings, "lena")
    pending = await Account.get(actor__username="lena")
    pending.state = AccountState.PENDING
    await pending.save()
    await log_in(client, "lena")
    async with new_client(client, settings) as visitor:
        assert (await visitor.get("/admin")).status_code == 303  # to the login page
    await log_in(client, "maria")
    page = await client.get("/admin")
    assert "lena" in page.text
    await post_form(
        client, "/admin", "/admin/signups", {"account": str(pending.id), "decision": "approve"}
    )
    assert (await Account.get(id=pending.id)).state == AccountState.ACTIVE
    await post_form(
        client, "/admin", "/admin/profile", {"description": "A calm place.", "rules": "Be kind"}
    )
    home = await client.get("/")
    assert "A calm place." in home.text and "<li>Be kind</li>" in home.text


async def test_admin_page_is_hidden_from_members(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_account(settings, "lena")
    await log_in(client, "lena")
    assert (await client.get("/admin")).status_code == 404
