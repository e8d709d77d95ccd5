"""The admin area in a real browser: an admin blocks a peer domain with a reason and a
severity and sees it listed (and on the about page), switches to allowlist mode, and suspends
an account, whose open session ends at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.pages import (
    DESKTOP,
    PASSWORD,
    PHONE,
    has_no_horizontal_scroll,
    log_in,
    shoot,
    sign_up,
)
from tests.e2e.instances import Instance

pytestmark = pytest.mark.browser


def test_an_admin_blocks_a_peer_switches_to_allowlist_and_suspends_an_account(
    browser: Browser, instance: Instance, screenshots: Path
) -> None:
    base = instance.base_url
    instance.cli("user", "create", "maria", "--password", PASSWORD, "--admin")
    lena_context = browser.new_context(viewport=PHONE)
    lena = lena_context.new_page()
    sign_up(lena, base, "lena")

    maria_context = browser.new_context(viewport=DESKTOP)
    admin = maria_context.new_page()
    log_in(admin, base, "maria")
    admin.get_by_role("link", name="Admin").click()
    expect(admin.get_by_role("heading", name="At a glance")).to_be_visible()
    admin.get_by_role("navigation", name="Admin").get_by_role("link", name="Domains").click()

    # Block a peer with a reason, as a limit rather than a suspension.
    admin.get_by_label("Domain to block").fill("noisy.example")
    admin.get_by_label("Reason").fill("Waves of spam")
    admin.get_by_label("Limit:", exact=False).check()
    admin.get_by_role("button", name="Block the domain").click()
    blocked = admin.get_by_role("list", name="Blocked domains")
    expect(blocked.get_by_text("noisy.example", exact=True)).to_be_visible()
    expect(blocked.get_by_text("Waves of spam")).to_be_visible()
    expect(blocked.get_by_text("limit", exact=True)).to_be_visible()

    # Federate only with a listed sister instance.
    admin.get_by_label("Domain to allow").fill("friends.example")
    admin.get_by_role("button", name="Allow the domain").click()
    expect(
        admin.get_by_role("list", name="Allowed domains").get_by_text("friends.example", exact=True)
    ).to_be_visible()
    admin.get_by_label("Allowlist:", exact=False).check()
    admin.get_by_role("button", name="Switch the mode").click()
    expect(admin.get_by_text("Now: allowlist")).to_be_visible()
    shoot(admin, screenshots, "admin-domains")
    assert instance.cli("instance", "mode").stdout.strip() == "federation mode: allowlist"
    admin.goto(f"{base}/about")
    expect(admin.get_by_text("Reason: Waves of spam", exact=False)).to_be_visible()

    # Suspend Lena: her open session ends at once.
    admin.goto(f"{base}/admin/accounts")
    admin.get_by_label("Find an account").fill("lena")
    admin.get_by_role("button", name="Search").click()
    admin.get_by_label("Reason for suspending lena", exact=False).fill("Selling things")
    admin.get_by_role("button", name="Suspend lena").click()
    expect(admin.get_by_text("Selling things", exact=False)).to_be_visible()
    lena.goto(f"{base}/settings")
    expect(lena.get_by_role("heading", name="Log in")).to_be_visible()
    lena.get_by_label("Username").fill("lena")
    lena.get_by_label("Password").fill(PASSWORD)
    lena.get_by_role("button", name="Log in").click()
    expect(lena.get_by_text("This account is suspended.")).to_be_visible()

    admin.get_by_role("link", name="Dashboard").click()
    log = admin.get_by_role("region", name="The admins' log")
    expect(log.get_by_text("Selling things", exact=False)).to_be_visible()
    expect(log.get_by_text("noisy.example")).to_be_visible()
    shoot(admin, screenshots, "admin-dashboard")
    admin.set_viewport_size(PHONE)
    admin.goto(f"{base}/admin/domains")
    assert has_no_horizontal_scroll(admin)
    for context in (lena_context, maria_context):
        context.close()
