"""Inbox requests asking for the domain policy together share one read, and never a stale one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fedgroups.federation.policy_reads import PolicyReads
from fedgroups.groups.domains import block_domain
from fedgroups.models import PeerDomain, Standing


async def test_requests_asking_together_share_one_read(db: None) -> None:
    await block_domain("blocked.test", reason="harm")
    await PeerDomain.create(domain="down.test", unavailable_since=datetime.now(UTC))
    reads = PolicyReads()
    asked = [("ok.test",), ("sub.blocked.test",), ("down.test",)]
    policies = await asyncio.gather(
        *(reads.policy_for(domains, health_of=domains) for domains in asked)
    )
    assert reads.reads == 1
    assert policies[0].standing("ok.test") == Standing.FEDERATES
    assert policies[1].standing("sub.blocked.test") == Standing.REFUSED
    assert "down.test" in policies[2].unavailable


async def test_a_block_applies_to_the_next_request(db: None) -> None:
    reads = PolicyReads()
    before = await reads.policy_for(["peer.test"], health_of=[])
    await block_domain("peer.test", reason="harm")
    after = await reads.policy_for(["peer.test"], health_of=[])
    assert (before.standing("peer.test"), after.standing("peer.test")) == (
        Standing.FEDERATES,
        Standing.REFUSED,
    )
    assert reads.reads == 2
