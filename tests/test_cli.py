"""The `fedgroups` console script, run as a person runs it: exit codes and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fedgroups.settings import Settings


def run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "FEDGROUPS_BASE_URL": settings.base_url,
        "FEDGROUPS_DATABASE_URL": settings.database_url,
        "FEDGROUPS_DATA_DIR": str(settings.data_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "fedgroups.cli", *args],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def assert_one_line_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("fedgroups: error: ")
    assert fragment in result.stderr


def test_admin_workflow(settings: Settings) -> None:
    assert run(settings, "migrate").returncode == 0
    created = run(settings, "user", "create", "alice", "--password", "long enough pw", "--admin")
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "created account @alice@groups.test"
    group = run(settings, "group", "create", "grief", "--name", "Grief Circle", "--private",
                "--owner", "alice")  # fmt: skip
    assert group.returncode == 0, group.stderr
    assert "members-only group @grief@groups.test" in group.stdout
    again = run(settings, "group", "create", "grief", "--name", "x", "--exist-ok")
    assert again.returncode == 0
    assert_one_line_error(run(settings, "group", "create", "GRIEF", "--name", "x"), "taken")
    assert (
        run(settings, "domain", "block", "evil.example", "--reason", "harassment").returncode == 0
    )
    assert run(settings, "domain", "block", "peer.test:8443").returncode == 0
    listing = run(settings, "domain", "list")
    assert listing.stdout.splitlines() == [
        "evil.example\tsuspend\tharassment",
        "peer.test:8443\tsuspend",
    ]
    assert run(settings, "domain", "unblock", "evil.example").returncode == 0
    assert_one_line_error(run(settings, "domain", "unblock", "evil.example"), "was not blocked")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["user", "create", "bad-", "--password", "long enough pw"], "username"),
        (["user", "create", "--password", "long enough pw"], "required: name"),
        (["group", "frobnicate"], "invalid choice"),
        (["user", "create", "bob", "--password", "short"], "at least 8"),
        (["group", "create", "with space", "--name", "x"], "group name"),
        (["group", "create", "admin", "--name", "x"], "reserved"),
        (["group", "create", "ok", "--name", "x", "--owner", "ghost"], "ghost"),
        (["domain", "block", "not a domain!"], "not a domain"),
    ],
)
def test_bad_input_is_one_clear_line(settings: Settings, args: list[str], fragment: str) -> None:
    assert run(settings, "migrate").returncode == 0
    assert_one_line_error(run(settings, *args), fragment)


def test_bad_setting_stops_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "FEDGROUPS_BASE_URL": "not a url", "FEDGROUPS_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "fedgroups.cli", "migrate"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert_one_line_error(result, "FEDGROUPS_BASE_URL")
