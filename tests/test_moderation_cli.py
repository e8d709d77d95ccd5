"""The moderation commands, run as an admin runs them: outputs, the log, one-line errors."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fedgroups.db import database
from fedgroups.groups.directory import find_group
from fedgroups.groups.joining import join_group
from fedgroups.models import Account, Notification
from fedgroups.settings import Settings
from tests.test_cli import assert_one_line_error, run


def test_moderation_workflow(settings: Settings, tmp_path: Path) -> None:
    def ok(*args: str) -> str:
        result = run(settings, *args)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    ok("migrate")
    ok("user", "create", "omar", "--password", "long enough pw")
    ok("user", "create", "lena", "--password", "long enough pw")
    ok("group", "create", "recovery", "--name", "Recovery", "--owner", "omar")
    assert_one_line_error(
        run(settings, "group", "configure", "recovery", "--review-first", "1", "--by", "lena"),
        "lena does not moderate @recovery",
    )
    rules = tmp_path / "rules.txt"
    rules.write_text("Be kind.\nNo advice unless asked.\n")
    assert ok(
        "group", "configure", "recovery", "--rules-file", str(rules), "--review-first", "2",
        "--question", "What brings you here?", "--by", "omar",
    ) == (
        "@recovery@groups.test: 2 rule lines, 1 join questions, first 2 posts of new members "
        "reviewed"
    )  # fmt: skip
    assert ok("group", "requests", "recovery") == "nobody waits to join @recovery@groups.test"
    assert ok("group", "moderator", "add", "recovery", "lena@groups.test") == (
        "lena@groups.test now moderates @recovery@groups.test"
    )
    assert_one_line_error(
        run(settings, "group", "moderator", "add", "recovery", "@lena@groups.test"),
        "already moderates",
    )
    assert ok("keyword", "add", "Buy  Now", "--reject") == (
        'posts saying "buy now" are now refused in every group'
    )
    ok("keyword", "add", "pills", "--group", "recovery")
    assert ok("keyword", "list", "--group", "recovery") == "hold\tpills"
    assert ok("post", "queue", "recovery") == "nothing waits for review in @recovery@groups.test"
    assert_one_line_error(run(settings, "post", "approve", "recovery", "#7"), "no such post")
    assert ok("report", "list") == "no open reports"
    log = ok("group", "log", "recovery").splitlines()
    assert [line.split("\t")[1:3] for line in log] == [
        ["an instance admin", "change_rules"],  # the group's keyword rule (never its word)
        ["an instance admin", "appoint_moderator"],
        ["omar@groups.test", "change_rules"],
    ]
    assert log[-1].endswith(
        "changed the join questions; changed the rules; new members' first 2 posts wait for review"
    )


async def _ask_to_join(settings: Settings) -> None:
    """lena, a local account, asks to join the members-only group `quiet`."""
    async with database(settings):
        group = await find_group("quiet")
        lena = await Account.get(actor__username="lena").prefetch_related("actor")
        await join_group(group, lena.actor, ["a friend told me"])


async def _notices_of(settings: Settings, name: str) -> list[str]:
    async with database(settings):
        rows = Notification.filter(account__actor__username=name)
        return [str(kind) for kind in await rows.order_by("id").values_list("kind", flat=True)]


def test_join_requests_decided_from_the_command_line(settings: Settings) -> None:
    for args in (
        ("migrate",),
        ("user", "create", "omar", "--password", "long enough pw"),
        ("user", "create", "lena", "--password", "long enough pw"),
        ("group", "create", "quiet", "--name", "Quiet", "--private", "--owner", "omar"),
        ("group", "configure", "quiet", "--question", "What brings you here?"),
    ):
        assert run(settings, *args).returncode == 0
    asyncio.run(_ask_to_join(settings))
    assert run(settings, "group", "requests", "quiet").stdout.startswith("lena@groups.test\t")
    assert (
        "What brings you here?: a friend told me"
        in run(settings, "group", "requests", "quiet").stdout
    )
    assert asyncio.run(_notices_of(settings, "omar")) == ["join_request"]
    approved = run(settings, "group", "approve", "quiet", "lena@groups.test", "--by", "omar",
                   "--reason", "welcome")  # fmt: skip
    assert approved.stdout.strip() == "approved lena@groups.test in @quiet@groups.test"
    assert asyncio.run(_notices_of(settings, "lena")) == ["approved"]
    log = run(settings, "group", "log", "quiet").stdout.splitlines()[0].split("\t")
    assert log[1:4] == ["omar@groups.test", "approve_member", "lena@groups.test"]
    assert log[-1] == "welcome"
