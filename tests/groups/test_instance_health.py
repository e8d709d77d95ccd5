"""The dashboard figures and federation health per peer domain, from real rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fedgroups.groups.domains import block_domain
from fedgroups.groups.instance_health import dashboard, peer_health
from fedgroups.models import (
    BlockSeverity,
    Delivery,
    FederationMode,
    InboxItem,
    JobState,
    PeerDomain,
    Standing,
)
from fedgroups.settings import Settings
from tests.factories import make_account, make_group
from tests.federation.delivery_support import outbox_activity

NOW = datetime.now(UTC)


async def deliveries(settings: Settings, states: dict[str, list[JobState]]) -> None:
    group = await make_group(settings, "recovery")
    activity = await outbox_activity(group.actor, 1)
    for domain, kinds in states.items():
        for number, state in enumerate(kinds):
            await Delivery.create(
                activity=activity,
                inbox_url=f"https://{domain}/inbox/{number}",
                domain=domain,
                run_at=NOW,
                state=state,
                attempts=1 if state != JobState.QUEUED else 0,
                finished_at=NOW if state == JobState.FAILED else None,
            )


async def test_peer_health_puts_failing_servers_first(db: None, settings: Settings) -> None:
    await PeerDomain.create(domain="fine.test", software="mastodon", last_success_at=NOW)
    await PeerDomain.create(
        domain="down.test",
        software="lemmy",
        consecutive_failures=9,
        last_failure_at=NOW,
        unavailable_since=NOW - timedelta(hours=2),
    )
    await PeerDomain.create(domain="flaky.test", consecutive_failures=2, last_failure_at=NOW)
    await deliveries(
        settings,
        {
            "down.test": [JobState.PAUSED, JobState.PAUSED, JobState.FAILED],
            "fine.test": [JobState.QUEUED, JobState.DONE],
        },
    )
    await block_domain("fine.test", reason="noise", severity=BlockSeverity.LIMIT)
    rows = await peer_health(now=NOW)
    assert [row.domain for row in rows] == ["down.test", "flaky.test", "fine.test"]
    down, _, fine = rows
    assert (down.deliveries_paused, down.deliveries_failed, down.deliveries_waiting) == (2, 1, 0)
    assert (down.software, down.standing) == ("lemmy", Standing.FEDERATES)
    assert fine.deliveries_waiting == 1
    assert fine.standing == Standing.LIMITED
    assert fine.block is not None and fine.block.reason == "noise"
    assert fine.last_success_at is not None
    assert [row.domain for row in await peer_health("down.test")] == ["down.test"]


async def test_a_block_on_a_parent_domain_shows_on_its_subdomains(db: None) -> None:
    await PeerDomain.create(domain="a.evil.test")
    await block_domain("evil.test", reason="harassment")
    rows = {row.domain: row for row in await peer_health()}
    assert rows["a.evil.test"].standing == Standing.REFUSED
    assert rows["a.evil.test"].block is not None
    assert rows["a.evil.test"].block.domain == "evil.test"


async def test_dashboard_counts(db: None, settings: Settings) -> None:
    await make_account(settings, "alice")
    suspended = await make_account(settings, "bob")
    suspended.is_suspended = True
    await suspended.save()
    await deliveries(
        settings,
        {
            "peer.test": [JobState.QUEUED, JobState.RUNNING, JobState.PAUSED, JobState.FAILED],
            "slow.test": [JobState.DONE],
        },
    )
    await Delivery.filter(domain="peer.test", state=JobState.QUEUED).update(attempts=3)
    for number, state in enumerate([JobState.QUEUED, JobState.HELD, JobState.FAILED]):
        await InboxItem.create(
            activity_ap_id=f"https://peer.test/a/{number}",
            activity_type="Create",
            actor_ap_id="https://peer.test/users/rosa",
            signer_key_id="k",
            body={},
            run_at=NOW,
            state=state,
            finished_at=NOW if state == JobState.FAILED else None,
        )
    await PeerDomain.create(domain="peer.test", unavailable_since=NOW)
    figures = await dashboard(NOW)
    assert (figures.accounts, figures.suspended_accounts, figures.groups) == (2, 1, 1)
    assert (figures.inbox_waiting, figures.inbox_held, figures.inbox_failed_recently) == (1, 1, 1)
    assert figures.deliveries_waiting == 2
    assert figures.deliveries_retrying == 1
    assert figures.deliveries_paused == 1
    assert figures.deliveries_failed_recently == 1
    assert figures.peers_unavailable == 1
    assert figures.federation_mode == FederationMode.OPEN
    assert (await dashboard(NOW + timedelta(days=2))).deliveries_failed_recently == 0
