"""What a change of federation policy means, applied at once: defederation is never silent.

A block, an allow or a mode switch is applied inside `applying()`, which compares where each
related peer domain stood before and after. Activities held by cautious mode are released or
dropped, deliveries to servers now refused are cancelled, and local members who lose contact
with groups or people elsewhere are told which server and why (`severance.tell_members`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from fedgroups.groups.severance import tell_members
from fedgroups.models import (
    Actor,
    Delivery,
    GroupSubscriptionState,
    InboxItem,
    JobState,
    MembershipState,
    Standing,
)
from fedgroups.models.domain import Policy, policy_for

_OPEN_DELIVERIES = (JobState.QUEUED, JobState.PAUSED)


@dataclass(frozen=True)
class PolicyChange:
    """Related domains that a change cut off or let back in."""

    cut: tuple[str, ...]
    restored: tuple[str, ...]


async def related_domains() -> set[str]:
    """Domains of remote members of our groups and of remote groups local people follow."""
    members = Actor.filter(
        is_local=False,
        memberships__state__in=[MembershipState.APPROVED, MembershipState.PENDING],
    )
    followed = Actor.filter(
        is_local=False,
        local_subscribers__state__in=[
            GroupSubscriptionState.ACCEPTED,
            GroupSubscriptionState.PENDING,
        ],
    )
    found: set[str] = set()
    for query in (members, followed):
        found.update(
            str(domain) for domain in await query.distinct().values_list("domain", flat=True)
        )
    return found


def _changes(domains: Iterable[str], before: Policy, after: Policy) -> PolicyChange:
    cut = sorted(d for d in domains if after.refuses(d) and not before.refuses(d))
    restored = sorted(d for d in domains if before.refuses(d) and not after.refuses(d))
    return PolicyChange(cut=tuple(cut), restored=tuple(restored))


@contextlib.asynccontextmanager
async def applying() -> AsyncIterator[None]:
    """Run a policy change in one transaction, then settle queues and tell whom it concerns."""
    async with in_transaction():
        related = await related_domains()
        before = await policy_for(related)
        yield
        after = await policy_for(related)
        await settle_held_items()
        await cancel_refused_deliveries()
        change = _changes(related, before, after)
        await tell_members(change.cut, change.restored)


async def settle_held_items(now: datetime | None = None) -> tuple[int, int]:
    """Held activities whose server is decided on: processed now, or dropped if refused.

    Returns (released, dropped).
    """
    moment = now or datetime.now(UTC)
    held = InboxItem.filter(state=JobState.HELD)
    domains = {str(d) for d in await held.distinct().values_list("domain", flat=True)}
    if not domains:
        return 0, 0
    policy = await policy_for(domains)
    released = dropped = 0
    for domain in sorted(domains):
        standing = policy.standing(domain)
        if standing == Standing.PENDING:
            continue
        rows = InboxItem.filter(state=JobState.HELD, domain=domain)
        if standing == Standing.REFUSED:
            dropped += await rows.update(
                state=JobState.IGNORED,
                last_error=f"{domain} was refused by the admins while this waited",
                finished_at=moment,
            )
        else:
            released += await rows.update(state=JobState.QUEUED, run_at=moment)
    return released, dropped


async def cancel_refused_deliveries(now: datetime | None = None) -> int:
    """Deliveries still waiting for a server this instance now refuses are not sent."""
    waiting = Delivery.filter(state__in=_OPEN_DELIVERIES)
    domains = {str(d) for d in await waiting.distinct().values_list("domain", flat=True)}
    if not domains:
        return 0
    policy = await policy_for(domains)
    refused = sorted(domain for domain in domains if policy.refuses(domain))
    if not refused:
        return 0
    return await Delivery.filter(state__in=_OPEN_DELIVERIES, domain__in=refused).update(
        state=JobState.IGNORED,
        last_error="not sent: the admins stopped federating with this server",
        finished_at=now or datetime.now(UTC),
    )
