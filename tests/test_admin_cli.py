"""`fedgroups domain …`, `fedgroups instance …` and suspensions, run as an admin runs them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fedgroups.db import database
from fedgroups.groups.sessions import open_session
from fedgroups.models import Account, DomainAllow, InboxItem, JobState, Session
from fedgroups.settings import Settings
from tests.test_cli import assert_one_line_error, run


async def _hold(settings: Settings, domain: str) -> None:
    async with database(settings):
        actor = f"https://{domain}/users/rosa"
        await InboxItem.create(
            activity_ap_id=f"{actor}/follow/1",
            activity_type="Follow",
            actor_ap_id=actor,
            domain=domain,
            signer_key_id=f"{actor}#main-key",
            body={"type": "Follow"},
            run_at=datetime.now(UTC),
            state=JobState.HELD,
        )


def test_blocks_with_severity_and_the_allowlist(settings: Settings) -> None:
    assert run(settings, "migrate").returncode == 0
    limited = run(settings, "domain", "block", "noisy.example", "--severity", "limit",
                  "--reason", "spam waves")  # fmt: skip
    assert limited.stdout.strip() == "limited noisy.example"
    assert run(settings, "domain", "block", "evil.example").stdout.strip() == "blocked evil.example"
    assert run(settings, "domain", "list").stdout.splitlines() == [
        "evil.example\tsuspend",
        "noisy.example\tlimit\tspam waves",
    ]
    assert_one_line_error(
        run(settings, "domain", "block", "x.example", "--severity", "mute"), "invalid choice"
    )
    assert run(settings, "domain", "allow", "friends.example", "--reason", "sister").returncode == 0
    allowed_blocked = run(settings, "domain", "allow", "evil.example").stdout
    assert "stays blocked" in allowed_blocked
    assert run(settings, "domain", "allowed").stdout.splitlines() == [
        "evil.example",
        "friends.example\tsister",
    ]
    assert run(settings, "domain", "disallow", "evil.example").returncode == 0
    assert_one_line_error(run(settings, "domain", "disallow", "evil.example"), "not on the")


def test_modes_pending_health_and_status(settings: Settings) -> None:
    assert run(settings, "migrate").returncode == 0
    assert run(settings, "instance", "mode").stdout.strip() == "federation mode: open"
    switched = run(settings, "instance", "mode", "cautious")
    assert switched.stdout.strip() == "federation mode: cautious (was open)"
    assert run(settings, "domain", "pending").stdout.strip() == "no domain is waiting"
    asyncio.run(_hold(settings, "new.example"))
    pending = run(settings, "domain", "pending").stdout
    assert pending.startswith("new.example\t1 waiting since ")
    assert "https://new.example/users/rosa" in pending
    health = run(settings, "domain", "health").stdout.splitlines()
    assert health[0].startswith("domain\tstanding\tsoftware")
    assert health[1].startswith("new.example\tpending\t?\t-\t0\t0\t0\t0\t1")
    status = dict(
        line.split("\t") for line in run(settings, "instance", "status").stdout.splitlines()
    )
    assert status["inbox held (cautious mode)"] == "1"
    assert status["federation mode"] == "cautious"
    denied = run(settings, "domain", "deny", "new.example", "--reason", "spam")
    assert denied.returncode == 0, denied.stderr
    assert run(settings, "domain", "list").stdout.strip() == "new.example\tsuspend\tspam"
    assert run(settings, "domain", "pending").stdout.strip() == "no domain is waiting"
    assert run(settings, "instance", "mode", "allowlist").returncode == 0
    assert_one_line_error(run(settings, "instance", "mode", "closed"), "invalid choice")

    async def allows() -> list[str]:
        async with database(settings):
            return [allow.domain for allow in await DomainAllow.all()]

    assert asyncio.run(allows()) == []


async def _sessions_of(settings: Settings, name: str) -> int:
    async with database(settings):
        account = await Account.get(actor__username=name)
        await open_session(account)
        return await Session.filter(account=account).count()


def test_suspending_an_account_and_the_registration_mode(settings: Settings) -> None:
    assert run(settings, "migrate").returncode == 0
    assert run(settings, "user", "create", "lena", "--password", "long enough pw").returncode == 0
    assert asyncio.run(_sessions_of(settings, "lena")) == 1
    suspended = run(settings, "user", "suspend", "lena", "--reason", "spam  links")
    assert suspended.stdout.strip() == "suspended @lena: logged out, cannot log in or post"
    assert asyncio.run(_sessions_of(settings, "lena")) == 1  # only the one just opened
    assert_one_line_error(run(settings, "user", "suspend", "lena"), "already suspended")
    assert_one_line_error(
        run(settings, "user", "post", "lena", "recovery@peer.example", "hello"), "suspended"
    )
    status = dict(
        line.split("\t") for line in run(settings, "instance", "status").stdout.splitlines()
    )
    assert status["suspended accounts"] == "1"
    lifted = run(settings, "user", "unsuspend", "lena")
    assert lifted.stdout.strip() == "@lena is no longer suspended"
    assert_one_line_error(run(settings, "user", "unsuspend", "lena"), "not suspended")
    assert_one_line_error(run(settings, "user", "suspend", "nobody"), "nobody")

    assert run(settings, "instance", "registrations").stdout.strip() == "registrations: open"
    switched = run(settings, "instance", "registrations", "approval")
    assert switched.stdout.strip() == "registrations: approval (was open)"
    assert run(settings, "instance", "registrations").stdout.strip() == "registrations: approval"
    assert_one_line_error(run(settings, "instance", "registrations", "maybe"), "invalid choice")
    assert run(settings, "domain", "block", "evil.example", "--reason", "threats").returncode == 0

    log = run(settings, "instance", "log").stdout.splitlines()
    assert [line.split("\t")[1:] for line in log] == [
        ["an instance admin", "block_domain", "evil.example", "suspend: threats"],
        ["an instance admin", "registration_mode", "approval"],
        ["an instance admin", "unsuspend_account", "lena@groups.test"],
        ["an instance admin", "suspend_account", "lena@groups.test", "spam links"],
    ]
