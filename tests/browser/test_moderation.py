"""Moderation in a real browser: a new member's first post waits in the queue until the owner
approves it; another member reports it, the owner removes it from the report, the reporter
reads the outcome, and the members' log shows what happened."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.pages import (
    DESKTOP,
    PHONE,
    has_no_horizontal_scroll,
    shoot,
    sign_up,
    start_group,
)
from tests.e2e.instances import Instance

pytestmark = pytest.mark.browser


def test_the_queue_and_a_report_from_start_to_outcome(
    browser: Browser, instance: Instance, screenshots: Path
) -> None:
    base = instance.base_url
    omar = browser.new_context(viewport=DESKTOP)
    owner = omar.new_page()
    sign_up(owner, base, "omar")
    start_group(owner, base, "recovery", "Recovery Circle", private=False)
    owner.get_by_role("link", name="Moderation", exact=True).click()
    owner.get_by_label("New members' posts to review").fill("1")
    owner.get_by_role("button", name="Save").click()

    # Lena joins, confirms the rules and writes her first post: it waits for review.
    lena = browser.new_context(viewport=PHONE, color_scheme="dark")
    member = lena.new_page()
    sign_up(member, base, "lena")
    member.goto(f"{base}/g/recovery")
    member.get_by_role("button", name="Join group").click()
    member.get_by_role("link", name="New post").click()
    expect(member.get_by_text("What is shared here stays here.")).to_be_visible()
    member.get_by_label("I have read the group's rules and will keep to them").check()
    member.get_by_label("Your post").fill("Hello, I am new here and a bit nervous.")
    member.get_by_role("button", name="Post").click()
    expect(member.get_by_role("heading", name="Your post waits for a moderator")).to_be_visible()
    member.goto(f"{base}/g/recovery")
    expect(member.get_by_text("a bit nervous")).to_have_count(0)

    # Omar finds it in the queue and approves it.
    owner.goto(f"{base}/notifications")
    owner.get_by_role("link", name="Review it").click()
    expect(owner.get_by_text("a bit nervous")).to_be_visible()
    shoot(owner, screenshots, "moderation")
    owner.get_by_label("Reason (optional, shown in the log)").fill("Welcome!")
    owner.get_by_role("button", name="Approve the post by lena").click()
    expect(owner.get_by_text("Nothing waits.")).to_be_visible()

    # Nina reads the group and reports the post.
    nina = browser.new_context(viewport=DESKTOP)
    reader = nina.new_page()
    sign_up(reader, base, "nina")
    reader.goto(f"{base}/g/recovery")
    reader.get_by_role("link", name="0 replies").click()
    reader.get_by_role("link", name="Report the post by lena").click()
    reader.get_by_label("What is wrong?").fill("Please check this is all right.")
    reader.get_by_role("button", name="Send the report").click()
    expect(reader.get_by_role("heading", name="Thank you")).to_be_visible()

    # The report reaches Omar; he removes the post from the report's page.
    owner.goto(f"{base}/notifications")
    owner.get_by_role("link", name="Read the report").click()
    expect(owner.get_by_text("Please check this is all right.")).to_be_visible()
    shoot(owner, screenshots, "report")
    owner.get_by_label("Reason (shown in the moderation log", exact=False).fill("Shares an address")
    owner.get_by_role("button", name="Remove the post", exact=True).click()
    expect(owner.get_by_text("resolved: The post was removed. Shares an address")).to_be_visible()

    # Nina is told the outcome; Lena, a member, reads it all in the log.
    reader.goto(f"{base}/notifications")
    expect(reader.get_by_text("The post was removed. Shares an address")).to_be_visible()
    member.goto(f"{base}/g/recovery/log")
    expect(member.get_by_text("post removed", exact=True)).to_be_visible()
    expect(member.get_by_text("post approved", exact=True)).to_be_visible()
    expect(member.get_by_text("Reason: Shares an address")).to_be_visible()
    assert has_no_horizontal_scroll(member)
    shoot(member, screenshots, "moderation-log-phone-dark")
    for context in (omar, lena, nina):
        context.close()
