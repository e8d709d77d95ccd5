"""Browser tier: real `fedgroups serve` processes driven by Debian's Chromium through Playwright.

Playwright's own browser download is not used: `.ci/run` installs the `chromium` package and
these tests launch it (set FEDGROUPS_CHROMIUM to use another binary). Screenshots of the main
pages are written to `test-output/screenshots/` (FEDGROUPS_SCREENSHOTS overrides it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from tests.e2e.instances import Instance, start_instance

REPO = Path(__file__).resolve().parents[2]


def _chromium_path() -> str:
    path = os.environ.get("FEDGROUPS_CHROMIUM") or shutil.which("chromium")
    if not path:
        raise RuntimeError("Chromium not found: install Debian's `chromium` package (.ci/run does)")
    return path


# Module-scoped: while sync Playwright runs, asyncio sees a running loop in this thread, which
# would break the asyncio tests collected after the browser tier.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=_chromium_path(), headless=True)
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    directory = Path(os.environ.get("FEDGROUPS_SCREENSHOTS", REPO / "test-output" / "screenshots"))
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Instance]:
    """One instance on SQLite (the browser tier tests the pages)."""
    running = start_instance(tmp_path / "one")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def two_instances(tmp_path: Path) -> Iterator[tuple[Instance, Instance]]:
    """Two instances that federate over loopback (SQLite: the browser tier tests the pages)."""
    first = start_instance(tmp_path / "one")
    try:
        second = start_instance(tmp_path / "two")
        try:
            yield first, second
        finally:
            second.stop()
    finally:
        first.stop()
