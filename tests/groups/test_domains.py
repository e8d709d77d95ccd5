"""Instance federation policy: blocks by severity, the allowlist, cautious mode's questions, and
what each change does at once to the queues."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fedgroups.errors import NotFound, ValidationError
from fedgroups.federation.delivery import enqueue
from fedgroups.groups.domains import (
    allow_domain,
    block_domain,
    deny_domain,
    disallow_domain,
    domain_of,
    list_allows,
    normalise_domain,
    unblock_domain,
)
from fedgroups.groups.federation_mode import (
    KNOWN_BEFORE,
    federation_mode,
    pending_domains,
    set_federation_mode,
)
from fedgroups.groups.membership import approved_members, request_membership
from fedgroups.models import (
    BlockSeverity,
    Delivery,
    DomainAllow,
    DomainBlock,
    FederationMode,
    InboxItem,
    JobState,
)
from fedgroups.models.domain import is_domain_blocked, policy_for
from fedgroups.settings import Settings
from tests.factories import make_group, make_remote_actor
from tests.federation.delivery_support import outbox_activity


async def held_item(domain: str, number: int) -> InboxItem:
    actor = f"https://{domain}/users/rosa"
    return await InboxItem.create(
        activity_ap_id=f"{actor}/activities/{number}",
        activity_type="Follow",
        actor_ap_id=actor,
        domain=domain,
        signer_key_id=f"{actor}#main-key",
        body={"type": "Follow"},
        run_at=datetime.now(UTC),
        state=JobState.HELD,
    )


async def waiting_delivery(domain: str, settings: Settings) -> Delivery:
    group = await make_group(settings, f"g{abs(hash(domain)) % 10_000}")
    member = await make_remote_actor(f"https://{domain}", "rosa")
    await request_membership(group, member, f"https://{domain}/follows/1")  # queues an Accept
    return await Delivery.get(domain=domain)


def test_domains_are_normalised() -> None:
    assert normalise_domain(" HTTPS://Peer.Test./users/x ") == "peer.test"
    assert normalise_domain("peer.test:8443") == "peer.test:8443"
    with pytest.raises(ValidationError):
        normalise_domain("not a domain!")
    assert domain_of("@rosa@Peer.Test") == domain_of("https://peer.test/@rosa") == "peer.test"


async def test_limited_members_still_receive_suspended_ones_do_not(
    db: None, settings: Settings
) -> None:
    group = await make_group(settings, "recovery")
    rosa = await make_remote_actor("https://limited.test", "rosa")
    mal = await make_remote_actor("https://evil.test", "mal")
    for number, actor in enumerate((rosa, mal)):
        await request_membership(group, actor, f"https://x.test/follows/{number}")
    await block_domain("limited.test", reason="spam waves", severity=BlockSeverity.LIMIT)
    await block_domain("evil.test", reason="harassment")
    assert [actor.ap_id for actor in await approved_members(group)] == [rosa.ap_id]
    assert not await is_domain_blocked("limited.test")
    assert await is_domain_blocked("evil.test")
    block = await DomainBlock.get(domain="limited.test")
    assert (block.severity, block.reason) == (BlockSeverity.LIMIT, "spam waves")


async def test_a_suspension_cancels_what_waits_for_the_server_a_limit_does_not(
    db: None, settings: Settings
) -> None:
    cut = await waiting_delivery("evil.test", settings)
    kept = await waiting_delivery("limited.test", settings)
    await block_domain("limited.test", severity=BlockSeverity.LIMIT)
    await block_domain("evil.test")
    await cut.refresh_from_db()
    await kept.refresh_from_db()
    assert cut.state == JobState.IGNORED
    assert "stopped federating" in cut.last_error
    assert kept.state == JobState.QUEUED


async def test_allowlist_mode_federates_only_with_listed_domains(
    db: None, settings: Settings
) -> None:
    listed = await waiting_delivery("friends.test", settings)
    unlisted = await waiting_delivery("stranger.test", settings)
    await allow_domain("friends.test", reason="sister instance")
    assert await set_federation_mode(FederationMode.ALLOWLIST) == FederationMode.OPEN
    assert await federation_mode() == FederationMode.ALLOWLIST
    await listed.refresh_from_db()
    await unlisted.refresh_from_db()
    assert (listed.state, unlisted.state) == (JobState.QUEUED, JobState.IGNORED)
    assert await is_domain_blocked("stranger.test")
    assert not await is_domain_blocked("sub.friends.test")
    # New work for an unlisted server is never even queued.
    group = await make_group(settings, "later")
    await request_membership(
        group, await make_remote_actor("https://stranger.test", "sam"), "https://s.test/f/2"
    )
    assert await Delivery.filter(domain="stranger.test", state=JobState.QUEUED).count() == 0
    await disallow_domain("friends.test")
    assert await is_domain_blocked("friends.test")
    with pytest.raises(NotFound):
        await disallow_domain("friends.test")


async def test_enqueue_skips_refused_servers(db: None, settings: Settings) -> None:
    group = await make_group(settings, "recovery")
    await block_domain("evil.test")
    activity = await outbox_activity(group.actor, 1)
    rosa = await make_remote_actor("https://peer.test", "rosa")
    mal = await make_remote_actor("https://evil.test", "mal")
    assert await enqueue(activity, [rosa, mal]) == 1
    assert await Delivery.filter(domain="evil.test").count() == 0


async def test_cautious_mode_asks_only_about_servers_not_seen_before(db: None) -> None:
    await make_remote_actor("https://known.test", "rosa")
    await block_domain("bad.test")
    await set_federation_mode(FederationMode.CAUTIOUS)
    allows = {allow.domain: allow.reason for allow in await list_allows()}
    assert allows == {"known.test": KNOWN_BEFORE}  # a blocked one is decided already
    policy = await policy_for(["known.test", "new.test", "bad.test"])
    assert [policy.standing(d).value for d in ("known.test", "new.test", "bad.test")] == [
        "federates",
        "pending",
        "refused",
    ]


async def test_yes_releases_what_waited_and_no_drops_it(db: None) -> None:
    await set_federation_mode(FederationMode.CAUTIOUS)
    first = await held_item("new.test", 1)
    await held_item("new.test", 2)
    other = await held_item("other.test", 1)
    pending = await pending_domains()
    assert [(p.domain, p.activities) for p in pending] == [("new.test", 2), ("other.test", 1)]
    assert pending[0].actors == ["https://new.test/users/rosa"]

    await allow_domain("new.test")
    await first.refresh_from_db()
    assert first.state == JobState.QUEUED
    await deny_domain("other.test", reason="spam")
    await other.refresh_from_db()
    assert other.state == JobState.IGNORED
    block = await DomainBlock.get(domain="other.test")
    assert (block.severity, block.reason) == (BlockSeverity.SUSPEND, "spam")
    assert await pending_domains() == []


async def test_a_limit_or_going_back_to_open_answers_the_question_too(db: None) -> None:
    await set_federation_mode(FederationMode.CAUTIOUS)
    limited = await held_item("limited.test", 1)
    waiting = await held_item("new.test", 1)
    await block_domain("limited.test", severity=BlockSeverity.LIMIT)
    await limited.refresh_from_db()
    await waiting.refresh_from_db()
    assert (limited.state, waiting.state) == (JobState.QUEUED, JobState.HELD)
    await set_federation_mode(FederationMode.OPEN)
    await waiting.refresh_from_db()
    assert waiting.state == JobState.QUEUED


async def test_switching_to_allowlist_drops_what_waits_from_unlisted_servers(db: None) -> None:
    await set_federation_mode(FederationMode.CAUTIOUS)
    waiting = await held_item("new.test", 1)
    await set_federation_mode(FederationMode.ALLOWLIST)
    await waiting.refresh_from_db()
    assert waiting.state == JobState.IGNORED


async def test_unblocking_and_allowing_again(db: None) -> None:
    await block_domain("peer.test", reason="first")
    await block_domain("peer.test", severity=BlockSeverity.LIMIT)
    block = await DomainBlock.get(domain="peer.test")
    assert (block.severity, block.reason) == (BlockSeverity.LIMIT, "first")  # reason kept
    assert await unblock_domain("PEER.test")
    assert not await unblock_domain("peer.test")
    await allow_domain("peer.test", reason="one")
    await allow_domain("peer.test")
    assert [(a.domain, a.reason) for a in await DomainAllow.all()] == [("peer.test", "one")]
