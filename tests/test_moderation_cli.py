"""The moderation commands, run as an admin runs them: outputs, the log, one-line errors."""

from __future__ import annotations

from pathlib import Path

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
