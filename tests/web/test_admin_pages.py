"""The admin area: dashboard, federation health, domains, accounts and settings, each action
admin-only (404 for anyone else), CSRF-protected and written to the admins' log."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from fedgroups.models import (
    Account,
    AccountState,
    BlockSeverity,
    Delivery,
    DomainAllow,
    DomainBlock,
    FederationMode,
    InboxItem,
    InstancePolicy,
    JobState,
    ModerationAction,
    ModerationEntry,
    PeerDomain,
    RegistrationMode,
)
from fedgroups.settings import Settings
from tests.factories import make_account, make_group
from tests.federation.delivery_support import outbox_activity
from tests.web.browsing import csrf_of, log_in, post_form
from tests.web.test_group_pages import new_client

PAGES = ["/admin", "/admin/federation", "/admin/domains", "/admin/accounts", "/admin/settings"]
ACTIONS = [
    "/admin/domains/block", "/admin/domains/unblock", "/admin/domains/allow",
    "/admin/domains/disallow", "/admin/domains/deny", "/admin/domains/mode",
    "/admin/accounts/suspend", "/admin/accounts/unsuspend", "/admin/settings/registrations",
    "/admin/profile", "/admin/signups",
]  # fmt: skip


async def _admin(client: httpx.AsyncClient, settings: Settings) -> Account:
    account = await make_account(settings, "maria", admin=True)
    await log_in(client, "maria")
    return account


async def _hold(domain: str, kind: str = "Follow") -> None:
    actor = f"https://{domain}/users/rosa"
    await InboxItem.create(
        activity_ap_id=f"{actor}/{kind.lower()}/1", activity_type=kind, actor_ap_id=actor,
        domain=domain, signer_key_id=f"{actor}#main-key", body={"type": kind},
        run_at=datetime.now(UTC), state=JobState.HELD,
    )  # fmt: skip


async def test_admin_pages_and_actions_are_hidden_from_everyone_else(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_account(settings, "lena")
    async with new_client(client, settings) as visitor:
        for page in PAGES:
            assert (await visitor.get(page)).status_code == 303  # to the login page
    await log_in(client, "lena")
    token = csrf_of((await client.get("/settings")).text)
    for page in PAGES:
        assert (await client.get(page)).status_code == 404, page
    for action in ACTIONS:
        answer = await client.post(action, data={"csrf": token, "domain": "evil.example"})
        assert answer.status_code == 404, action
    assert not await DomainBlock.exists()


async def test_forms_without_a_token_change_nothing(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await _admin(client, settings)
    answer = await client.post("/admin/domains/block", data={"domain": "evil.example"})
    assert answer.status_code == 403
    assert not await DomainBlock.exists()


async def test_blocking_and_lifting_a_domain_from_the_domains_page(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    maria = await _admin(client, settings)
    blocked = await post_form(
        client, "/admin/domains", "/admin/domains/block",
        {"domain": "https://Noisy.example/", "reason": "spam waves", "severity": "limit"},
    )  # fmt: skip
    assert blocked.status_code == 303
    block = await DomainBlock.get(domain="noisy.example")
    assert (block.severity, block.reason) == (BlockSeverity.LIMIT, "spam waves")
    page = (await client.get("/admin/domains")).text
    assert "noisy.example" in page and "spam waves" in page and ">limit<" in page
    about = (await client.get("/about")).text
    assert "noisy.example" in about and "Reason: spam waves" in about
    entry = await ModerationEntry.get(action=ModerationAction.BLOCK_DOMAIN)
    assert (entry.group_id, entry.moderator_id) == (None, maria.actor_id)  # type: ignore[attr-defined]
    assert entry.object_ap_id == "noisy.example"
    bad = await post_form(
        client, "/admin/domains", "/admin/domains/block",
        {"domain": "not a domain!", "reason": "x", "severity": "suspend"},
    )  # fmt: skip
    assert bad.status_code == 400 and "not a domain" in bad.text
    assert 'value="not a domain!"' in bad.text
    unknown = await post_form(
        client, "/admin/domains", "/admin/domains/block",
        {"domain": "x.example", "severity": "mute"},
    )  # fmt: skip
    assert unknown.status_code == 400 and not await DomainBlock.exists(domain="x.example")
    lifted = await post_form(
        client, "/admin/domains", "/admin/domains/unblock", {"domain": "noisy.example"}
    )
    assert lifted.status_code == 303 and not await DomainBlock.exists()
    assert "noisy.example" not in (await client.get("/about")).text
    assert (await client.post("/admin/domains/nonsense", data={})).status_code == 404


async def test_allowlist_mode_and_cautious_mode_questions(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await _admin(client, settings)
    await post_form(
        client, "/admin/domains", "/admin/domains/allow",
        {"domain": "friends.example", "reason": "sister instance"},
    )  # fmt: skip
    assert await DomainAllow.exists(domain="friends.example", reason="sister instance")
    switched = await post_form(
        client, "/admin/domains", "/admin/domains/mode", {"mode": "allowlist"}
    )
    assert switched.status_code == 303
    policy = await InstancePolicy.get()
    assert policy.federation_mode == FederationMode.ALLOWLIST
    assert "Now: <strong>allowlist</strong>" in (await client.get("/admin/domains")).text
    bad_mode = await post_form(client, "/admin/domains", "/admin/domains/mode", {"mode": "x"})
    assert bad_mode.status_code == 400
    await post_form(
        client, "/admin/domains", "/admin/domains/disallow", {"domain": "friends.example"}
    )
    assert not await DomainAllow.exists(domain="friends.example")
    again = await post_form(
        client, "/admin/domains", "/admin/domains/disallow", {"domain": "friends.example"}
    )
    assert again.status_code == 400 and "was not on the allowlist" in again.text

    await post_form(client, "/admin/domains", "/admin/domains/mode", {"mode": "cautious"})
    await _hold("new.example")
    await _hold("spam.example", "Create")
    page = (await client.get("/admin/domains")).text
    assert (
        "new.example" in page and "(Follow)" in page and "https://spam.example/users/rosa" in page
    )
    await post_form(client, "/admin/domains", "/admin/domains/allow", {"domain": "new.example"})
    assert await DomainAllow.exists(domain="new.example")
    assert not await InboxItem.exists(domain="new.example", state=JobState.HELD)
    await post_form(
        client, "/admin/domains", "/admin/domains/deny",
        {"domain": "spam.example", "reason": "spam"},
    )  # fmt: skip
    assert await DomainBlock.exists(domain="spam.example", reason="spam")
    assert not await InboxItem.exists(domain="spam.example", state=JobState.HELD)
    dashboard = (await client.get("/admin")).text
    for words in ("allowed", "denied", "switched the federation mode to", "took off the allowlist"):
        assert words in dashboard, words


async def test_dashboard_and_federation_health_show_failing_deliveries(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await _admin(client, settings)
    group = await make_group(settings, "recovery")
    activity = await outbox_activity(group.actor, 1)
    await Delivery.create(
        activity=activity, inbox_url="https://down.example/inbox", domain="down.example",
        run_at=datetime.now(UTC), state=JobState.QUEUED, attempts=3, last_error="HTTP 502",
    )  # fmt: skip
    await PeerDomain.create(domain="down.example", software="lemmy", consecutive_failures=3)
    await PeerDomain.create(domain="fine.example", software="mastodon")
    page = (await client.get("/admin")).text
    assert "https://down.example/inbox" in page and "HTTP 502" in page and "retrying" in page
    assert "Servers that are failing" in page and "down.example" in page
    health = (await client.get("/admin/federation")).text
    assert health.index("down.example") < health.index("fine.example")
    assert "lemmy" in health and "mastodon" in health and 'class="failing"' in health


async def test_suspending_an_account_ends_its_sessions_and_logins(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    maria = await _admin(client, settings)
    lena = await make_account(settings, "lena")
    await make_account(settings, "ben")
    async with new_client(client, settings) as browser:
        await log_in(browser, "lena")
        assert (await browser.get("/settings")).status_code == 200
        found = (await client.get("/admin/accounts?q=len")).text
        assert "lena" in found and ">ben<" not in found
        suspended = await post_form(
            client, "/admin/accounts", "/admin/accounts/suspend",
            {"account": str(lena.id), "reason": "spam links"},
        )  # fmt: skip
        assert suspended.status_code == 303
        assert (await browser.get("/settings")).status_code == 303  # logged out at once
        refused = await log_in(browser, "lena")
        assert refused.status_code == 400 and "This account is suspended." in refused.text
    assert (await client.get("/u/lena")).status_code == 404
    listed = (await client.get("/admin/accounts?suspended=1")).text
    assert "spam links" in listed and "maria" not in listed.split("Only suspended")[1]
    twice = await post_form(
        client, "/admin/accounts", "/admin/accounts/suspend", {"account": str(lena.id)}
    )
    assert twice.status_code == 400 and "already suspended" in twice.text
    itself = await post_form(
        client, "/admin/accounts", "/admin/accounts/suspend", {"account": str(maria.id)}
    )
    assert itself.status_code == 400 and not (await Account.get(id=maria.id)).is_suspended
    await post_form(
        client, "/admin/accounts", "/admin/accounts/unsuspend", {"account": str(lena.id)}
    )
    assert not (await Account.get(id=lena.id)).is_suspended
    assert (await log_in(client, "lena")).status_code == 303
    actions = await ModerationEntry.filter(group_id=None).values_list("action", flat=True)
    assert sorted(actions) == ["suspend_account", "unsuspend_account"]


@pytest.mark.parametrize("mode", ["closed", "approval"])
async def test_registration_mode_is_set_on_the_settings_page(
    client: httpx.AsyncClient, settings: Settings, mode: str
) -> None:
    await _admin(client, settings)
    saved = await post_form(
        client, "/admin/settings", "/admin/settings/registrations", {"mode": mode}
    )
    assert saved.status_code == 303
    assert (await InstancePolicy.get()).registration_mode == RegistrationMode(mode)
    assert f'value="{mode}" checked' in (await client.get("/admin/settings")).text
    nodeinfo = (await client.get("/nodeinfo/2.1")).json()
    assert nodeinfo["openRegistrations"] is False
    async with new_client(client, settings) as visitor:
        signup = (await visitor.get("/signup")).text
        assert ("not taking new sign-ups" in signup) == (mode == "closed")
    bad = await post_form(client, "/admin/settings", "/admin/settings/registrations", {"mode": "x"})
    assert bad.status_code == 400


async def test_about_page_text_and_rules_from_the_settings_page(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await _admin(client, settings)
    await post_form(
        client,
        "/admin/settings",
        "/admin/profile",
        {"description": "A calm place.", "rules": "Be kind"},
    )
    about = (await client.get("/about")).text
    assert "A calm place." in about and "<li>Be kind</li>" in about
    too_long = await post_form(
        client, "/admin/settings", "/admin/profile", {"description": "x" * 5001, "rules": ""}
    )
    assert too_long.status_code == 400 and "at most 5000" in too_long.text
    assert (
        "changed\n    <strong>the instance&#39;s rules</strong>"
        in (await client.get("/admin")).text
    )


async def test_sign_up_decisions_are_logged(client: httpx.AsyncClient, settings: Settings) -> None:
    maria = await _admin(client, settings)
    lena = await make_account(settings, "lena")
    lena.state = AccountState.PENDING
    await lena.save()
    page = (await client.get("/admin")).text
    assert "Sign-ups waiting for approval" in page and "Approve<span" in page
    await post_form(
        client, "/admin", "/admin/signups", {"account": str(lena.id), "decision": "reject"}
    )
    assert (await Account.get(id=lena.id)).state == AccountState.REJECTED
    entry = await ModerationEntry.get(group_id=None)
    assert (entry.action, entry.subject_id) == (ModerationAction.REJECT_MEMBER, lena.actor_id)  # type: ignore[attr-defined]
    assert entry.moderator_id == maria.actor_id  # type: ignore[attr-defined]
    assert (
        "rejected the sign-up of\n    <strong>lena@groups.test" in (await client.get("/admin")).text
    )
