"""What a person does in the pages, step by step, as Playwright drives them."""

from __future__ import annotations

import time
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

PASSWORD = "correct horse battery"
PHONE = {"width": 360, "height": 780}  # viewports the pages must work at
DESKTOP = {"width": 1200, "height": 900}


def sign_up(page: Page, base_url: str, name: str) -> None:
    page.goto(f"{base_url}/signup")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def start_group(page: Page, base_url: str, slug: str, name: str, *, private: bool) -> None:
    page.goto(f"{base_url}/groups/new")
    page.get_by_label("Group name").fill(name)
    page.get_by_label("Handle").fill(slug)
    page.get_by_label("What the group is for").fill(f"{name}: peer support, gently moderated.")
    page.get_by_label("Rules").fill("Be kind.\nWhat is shared here stays here.")
    if private:
        page.get_by_label("Members only", exact=False).check()
        page.get_by_label("Join questions").fill("What brings you here?")
    page.get_by_role("button", name="Start the group").click()
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()


def write_post(page: Page, body: str, warning: str = "") -> None:
    if warning:
        page.get_by_label("Content warning (optional)").fill(warning)
    page.get_by_label("Your post").fill(body)
    page.get_by_role("button", name="Post").first.click()


def has_no_horizontal_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth + 1"))


def shoot(page: Page, directory: Path, name: str) -> None:
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


def reload_until(page: Page, locator: Locator, *, timeout: float = 30.0) -> None:
    """Reload until `locator` shows: what another server does arrives in its own time."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            expect(locator.first).to_be_visible(timeout=1_000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.reload()


def log_in(page: Page, base_url: str, name: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
