"""`fedgroups user follow|unfollow|following|post|edit-post|delete-post`, run as a person runs
them: what they print, and one clear line on bad input.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from fedgroups.settings import Settings
from tests.peer import RemotePeer, serve_peer
from tests.test_cli import assert_one_line_error, run


async def run_async(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """The command in a subprocess, while this event loop keeps serving test peers."""
    env = {
        **os.environ,
        "FEDGROUPS_BASE_URL": settings.base_url,
        "FEDGROUPS_DATABASE_URL": settings.database_url,
        "FEDGROUPS_DATA_DIR": str(settings.data_dir),
        "FEDGROUPS_ALLOW_PRIVATE_PEERS": "1",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fedgroups.cli", *args, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return subprocess.CompletedProcess(args, process.returncode, out.decode(), err.decode())


def _group(base_url: str) -> RemotePeer:
    return RemotePeer(base_url=base_url, name="recovery", kind="Group")


async def test_follow_list_and_leave_a_remote_group(settings: Settings) -> None:
    assert (await run_async(settings, "migrate")).returncode == 0
    await run_async(settings, "user", "create", "bob", "--password", "long enough pw")
    async with serve_peer(_group) as group:
        followed = await run_async(settings, "user", "follow", "bob", f"@{group.handle}")
        assert followed.returncode == 0, followed.stderr
        assert followed.stdout == (
            f"asked to join @{group.handle}: waiting for the group to accept\n"
        )
    listed = await run_async(settings, "user", "following", "bob")
    assert listed.stdout.splitlines() == [f"{group.handle}\tpending"]
    early = await run_async(settings, "user", "post", "bob", group.handle, "hello")
    assert_one_line_error(early, "has not accepted @bob")
    left = await run_async(settings, "user", "unfollow", "bob", group.handle)  # peer is down
    assert left.stdout == f"left @{group.handle}\n"
    nothing = await run_async(settings, "user", "following", "bob")
    assert nothing.stdout == "@bob@groups.test follows no group on another server\n"


BAD_INPUT = [
    (["user", "follow", "ghost", "recovery@groups.example"], "'ghost'"),
    (["user", "follow", "alice", "not a handle"], "not a handle"),
    (["user", "follow", "alice", "circle@groups.test"], "hosted here"),
    (["user", "unfollow", "alice", "circle@groups.test"], "does not follow"),
    (["user", "post", "alice", "circle@groups.test", "hi"], "not a group on another server"),
    (["user", "post", "alice"], "required: handle, text"),
    (["user", "edit-post", "alice", "https://groups.test/u/alice/posts/x", "hi"], "no post"),
    (["user", "delete-post", "alice", "https://groups.test/u/alice/posts/x"], "no post"),
]


def test_bad_input_is_one_clear_line(settings: Settings) -> None:
    assert run(settings, "migrate").returncode == 0
    assert run(settings, "user", "create", "alice", "--password", "long enough pw").returncode == 0
    assert run(settings, "group", "create", "circle", "--name", "Circle").returncode == 0
    for args, fragment in BAD_INPUT:  # one instance for all: each command is a process start
        assert_one_line_error(run(settings, *args), fragment)
