"""The instance's federation mode (open, allowlist, cautious) and cautious mode's questions.

Allowlist mode federates only with listed domains. Cautious mode federates with the servers
already known when it was switched on, plus those an admin says yes to; a server not seen
before is verified and its activities kept, but they wait for `allow` or `deny`
(Hometown's "cautiously optimistic" federation, hometown-fork/hometown#1220).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.functions import Count, Max, Min

from fedgroups.groups.admin_log import record_admin_action
from fedgroups.groups.defederation import applying
from fedgroups.models import (
    Actor,
    DomainAllow,
    DomainBlock,
    FederationMode,
    InboxItem,
    JobState,
    ModerationAction,
    PeerDomain,
)
from fedgroups.models.policy import instance_policy, parse_mode, save_instance_policy

KNOWN_BEFORE = "already known when cautious mode was switched on"
SAMPLE_ACTORS = 3


async def federation_mode() -> FederationMode:
    row = await instance_policy()
    return row.federation_mode if row is not None else FederationMode.OPEN


def parse_federation_mode(value: str) -> FederationMode:
    return parse_mode(FederationMode, value, "federation mode")


async def set_federation_mode(mode: FederationMode, *, by: Actor | None = None) -> FederationMode:
    """Switch modes; members cut off by the switch are told, held activities settled."""
    async with applying():
        previous = await federation_mode()
        if mode == FederationMode.CAUTIOUS and previous != FederationMode.CAUTIOUS:
            await _allow_known_domains()
        await save_instance_policy(federation_mode=mode)
        if mode != previous:
            await record_admin_action(ModerationAction.FEDERATION_MODE, by, target=mode.value)
    return previous


async def _allow_known_domains() -> int:
    """Servers already seen are not new: cautious mode asks only about the ones to come."""
    seen = set(await PeerDomain.all().values_list("domain", flat=True))
    seen |= set(await Actor.filter(is_local=False).distinct().values_list("domain", flat=True))
    decided = set(await DomainAllow.all().values_list("domain", flat=True))
    decided |= set(await DomainBlock.all().values_list("domain", flat=True))
    fresh = sorted(str(domain) for domain in seen - decided)
    await DomainAllow.bulk_create(
        [DomainAllow(domain=domain, reason=KNOWN_BEFORE) for domain in fresh],
        ignore_conflicts=True,
    )
    return len(fresh)


@dataclass(frozen=True)
class PendingDomain:
    """A server cautious mode keeps waiting: how much it sent, since when, and who."""

    domain: str
    activities: int
    first_at: datetime
    last_at: datetime
    actors: list[str]
    activity_types: list[str]  # what kinds of activity wait (Follow, Create, ...)


async def pending_domains() -> list[PendingDomain]:
    """Servers whose activities wait for an admin's yes or no, oldest question first."""
    rows = (
        await InboxItem.filter(state=JobState.HELD)
        .annotate(activities=Count("id"), first_at=Min("created_at"), last_at=Max("created_at"))
        .group_by("domain")
        .values("domain", "activities", "first_at", "last_at")
    )
    pending = []
    for row in sorted(rows, key=lambda row: (row["first_at"], row["domain"])):
        actors = (
            await InboxItem.filter(state=JobState.HELD, domain=row["domain"])
            .distinct()
            .limit(SAMPLE_ACTORS)
            .values_list("actor_ap_id", flat=True)
        )
        kinds = (
            await InboxItem.filter(state=JobState.HELD, domain=row["domain"])
            .distinct()
            .values_list("activity_type", flat=True)
        )
        pending.append(
            PendingDomain(
                domain=str(row["domain"]),
                activities=int(row["activities"]),
                first_at=row["first_at"],
                last_at=row["last_at"],
                actors=sorted(str(actor) for actor in actors),
                activity_types=sorted(str(kind) for kind in kinds),
            )
        )
    return pending
