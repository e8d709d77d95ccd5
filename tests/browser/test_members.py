"""Members in a real browser: sign up, start and join groups, post behind a content warning,
reply, read the thread as a tree; members-only groups stay closed to everyone else."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.pages import (
    DESKTOP,
    PHONE,
    has_no_horizontal_scroll,
    reload_until,
    shoot,
    sign_up,
    start_group,
    write_post,
)
from tests.e2e.instances import Instance

pytestmark = pytest.mark.browser


def test_members_on_two_instances_post_with_a_warning_and_reply(
    browser: Browser, two_instances: tuple[Instance, Instance], screenshots: Path
) -> None:
    one, two = two_instances
    alice = browser.new_context(viewport=DESKTOP)
    bob = browser.new_context(
        viewport=PHONE, color_scheme="dark", timezone_id="Asia/Tokyo", locale="en-US"
    )
    alice_page, bob_page = alice.new_page(), bob.new_page()

    sign_up(alice_page, one.base_url, "alice")
    start_group(alice_page, one.base_url, "recovery", "Recovery Circle", private=False)

    # Bob lives on the other instance and joins the group from there, by its handle.
    sign_up(bob_page, two.base_url, "bob")
    bob_page.get_by_role("link", name="Join a group on another server").click()
    bob_page.get_by_label("The group's handle or address").fill(f"@recovery@{one.domain}")
    bob_page.get_by_role("button", name="Join").click()
    expect(bob_page.get_by_role("heading", level=1, name="Recovery Circle")).to_be_visible()
    reload_until(bob_page, bob_page.get_by_role("link", name="New post"))
    bob_page.get_by_role("link", name="New post").click()
    shoot(bob_page, screenshots, "compose-phone-dark")
    write_post(bob_page, "It has been a **hard** week.\n\n- slept badly\n- called my sponsor",
               warning="relapse")  # fmt: skip
    expect(bob_page.get_by_text("Content warning:")).to_be_visible()
    expect(bob_page.get_by_text("called my sponsor")).to_be_hidden()  # collapsed until opened
    assert has_no_horizontal_scroll(bob_page)

    # The post reached the group on the first instance, still behind its warning.
    alice_page.goto(f"{one.base_url}/g/recovery")
    reload_until(alice_page, alice_page.get_by_role("link", name="0 replies"))
    alice_page.get_by_role("link", name="0 replies").click()
    expect(alice_page.get_by_text("called my sponsor")).to_be_hidden()
    # Keyboard only: the first Tab reaches the skip link, Enter opens the warning.
    alice_page.keyboard.press("Tab")
    expect(alice_page.get_by_role("link", name="Skip to content")).to_be_focused()
    alice_page.locator("details.cw > summary").focus()
    alice_page.keyboard.press("Enter")
    expect(alice_page.get_by_text("called my sponsor")).to_be_visible()
    alice_page.get_by_role("link", name="Reply to bob").click()
    write_post(alice_page, "Thank you for telling us, @bob. We are here.")
    expect(alice_page.locator(".replies").get_by_text("We are here.")).to_be_visible()

    # The group shares the reply back: Bob reads the whole thread on his own instance.
    reload_until(bob_page, bob_page.locator(".replies").get_by_text("We are here."))
    expect(bob_page.get_by_text("It has been a")).to_be_hidden()  # still folded for Bob too
    expect(bob_page.locator("time").first).to_contain_text("GMT+9")  # his browser's own zone
    assert has_no_horizontal_scroll(bob_page)

    alice_page.goto(f"{one.base_url}/g/recovery")
    shoot(alice_page, screenshots, "group")
    alice_page.get_by_role("link", name="1 reply").click()
    alice_page.get_by_text("Content warning:").click()
    shoot(alice_page, screenshots, "thread")
    alice_page.goto(f"{one.base_url}/g/recovery/compose")
    # Only spaces: the browser lets it through, the server says what is wrong next to the field.
    write_post(alice_page, "   ", warning="grief")
    expect(alice_page.get_by_text("Write something to post.")).to_be_visible()
    expect(alice_page.get_by_label("Content warning (optional)")).to_have_value("grief")
    shoot(alice_page, screenshots, "compose")
    alice.close()
    bob.close()


def test_members_only_group_shows_nothing_to_non_members(
    browser: Browser, two_instances: tuple[Instance, Instance]
) -> None:
    one, _two = two_instances
    owner = browser.new_context(viewport=DESKTOP)
    page = owner.new_page()
    sign_up(page, one.base_url, "carol")
    start_group(page, one.base_url, "grief", "Grief Circle", private=True)
    page.get_by_role("link", name="New post").click()
    page.get_by_label("Your post").fill("Only for the circle.")
    page.get_by_role("button", name="Post").click()
    thread_url = page.url

    outsider = browser.new_context(viewport=PHONE)
    other = outsider.new_page()
    other.goto(f"{one.base_url}/g/grief")
    expect(other.get_by_text("Only members can read this group's posts.")).to_be_visible()
    expect(other.get_by_text("Only for the circle.")).to_have_count(0)
    response = other.goto(thread_url)
    assert response is not None and response.status == 404
    sign_up(other, one.base_url, "dave")
    other.goto(f"{one.base_url}/g/grief")
    other.get_by_role("link", name="Ask to join").click()
    other.get_by_label("What brings you here?").fill("My mother died in May.")
    other.get_by_role("button", name="Ask to join").click()
    expect(other.get_by_text("waiting for a moderator")).to_be_visible()
    expect(other.get_by_text("Only for the circle.")).to_have_count(0)
    owner.close()
    outsider.close()
