"""What admins read to know how the instance is doing: the dashboard figures, and the health
of federation with each peer domain (last success, failures, queued deliveries, software,
and where the domain stands with the instance's blocks, allows and mode).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from tortoise.expressions import Q
from tortoise.functions import Count

from fedgroups.models import (
    Account,
    Delivery,
    DomainAllow,
    DomainBlock,
    FederationMode,
    Group,
    InboxItem,
    JobState,
    PeerDomain,
    Post,
    Standing,
)
from fedgroups.models.domain import Policy, domain_candidates, policy_for

RECENT = timedelta(days=1)  # "failed lately" on the dashboard
FAILED_WINDOW = timedelta(days=7)  # failed deliveries counted per peer
MAX_PEERS = 500
FAILING_SHOWN = 20
_WAITING = (JobState.QUEUED, JobState.RUNNING)
Decision = TypeVar("Decision", DomainBlock, DomainAllow)


@dataclass(frozen=True)
class Dashboard:
    """Counts only, never who: what an admin checks first."""

    accounts: int
    suspended_accounts: int
    groups: int
    posts: int
    inbox_waiting: int  # received, not processed yet
    inbox_held: int  # waiting for an admin's yes (cautious mode)
    inbox_failed_recently: int
    deliveries_waiting: int
    deliveries_paused: int  # their peer looks down
    deliveries_retrying: int  # waiting again after a failed attempt: failing right now
    deliveries_failed_recently: int  # given up on in the last day
    peers_unavailable: int
    federation_mode: FederationMode


async def dashboard(now: datetime | None = None) -> Dashboard:
    since = (now or datetime.now(UTC)) - RECENT
    return Dashboard(
        accounts=await Account.all().count(),
        suspended_accounts=await Account.filter(is_suspended=True).count(),
        groups=await Group.filter(actor__gone_at=None).count(),
        posts=await Post.filter(deleted_at=None).count(),
        inbox_waiting=await InboxItem.filter(state__in=_WAITING).count(),
        inbox_held=await InboxItem.filter(state=JobState.HELD).count(),
        inbox_failed_recently=await InboxItem.filter(
            state=JobState.FAILED, finished_at__gte=since
        ).count(),
        deliveries_waiting=await Delivery.filter(state__in=_WAITING).count(),
        deliveries_paused=await Delivery.filter(state=JobState.PAUSED).count(),
        deliveries_retrying=await Delivery.filter(state=JobState.QUEUED, attempts__gt=0).count(),
        deliveries_failed_recently=await Delivery.filter(
            state=JobState.FAILED, finished_at__gte=since
        ).count(),
        peers_unavailable=await PeerDomain.filter(unavailable_since__isnull=False).count(),
        federation_mode=(await policy_for([])).mode,
    )


async def failing_deliveries(
    now: datetime | None = None, *, limit: int = FAILING_SHOWN
) -> list[Delivery]:
    """The newest deliveries that are failing: retrying, paused, or given up in the last day."""
    since = (now or datetime.now(UTC)) - RECENT
    failing = (
        Q(state=JobState.QUEUED, attempts__gt=0)
        | Q(state=JobState.PAUSED)
        | Q(state=JobState.FAILED, finished_at__gte=since)
    )
    return await Delivery.filter(failing).order_by("-id").limit(limit)


@dataclass(frozen=True)
class PeerHealth:
    """One peer domain as federation sees it."""

    domain: str
    standing: Standing
    software: str = ""
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    consecutive_failures: int = 0
    unavailable_since: datetime | None = None
    deliveries_waiting: int = 0
    deliveries_paused: int = 0
    deliveries_failed: int = 0  # given up on in the last week
    inbox_held: int = 0
    block: DomainBlock | None = None  # the block that applies (it may name a parent domain)
    allow: DomainAllow | None = None

    @property
    def is_failing(self) -> bool:
        return self.unavailable_since is not None or self.consecutive_failures > 0


async def peer_health(domain: str | None = None, now: datetime | None = None) -> list[PeerHealth]:
    """Every peer domain known here (or just `domain`), failing ones first."""
    names = {domain} if domain else await _known_domains()
    if not names:
        return []
    week = (now or datetime.now(UTC)) - FAILED_WINDOW
    peers = {p.domain: p for p in await PeerDomain.filter(domain__in=sorted(names))}
    counts = await _delivery_counts(names, week)
    held = await _held_counts(names)
    policy = await policy_for(names)
    blocks = await _decisions(DomainBlock, names)
    allows = await _decisions(DomainAllow, names)
    rows = [_row(name, peers.get(name), counts, held, policy, blocks, allows) for name in names]
    rows.sort(key=lambda row: (not row.is_failing, -row.consecutive_failures, row.domain))
    return rows[:MAX_PEERS]


async def _known_domains() -> set[str]:
    known = set(await PeerDomain.all().values_list("domain", flat=True))
    known |= set(await DomainBlock.all().values_list("domain", flat=True))
    known |= set(await DomainAllow.all().values_list("domain", flat=True))
    open_states = [*_WAITING, JobState.PAUSED]
    known |= set(
        await Delivery.filter(state__in=open_states).distinct().values_list("domain", flat=True)
    )
    known |= set(
        await InboxItem.filter(state=JobState.HELD).distinct().values_list("domain", flat=True)
    )
    return {str(name) for name in known}


async def _delivery_counts(names: set[str], week: datetime) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    open_rows = (
        await Delivery.filter(domain__in=sorted(names), state__in=[*_WAITING, JobState.PAUSED])
        .annotate(n=Count("id"))
        .group_by("domain", "state")
        .values("domain", "state", "n")
    )
    failed_rows = (
        await Delivery.filter(
            domain__in=sorted(names), state=JobState.FAILED, finished_at__gte=week
        )
        .annotate(n=Count("id"))
        .group_by("domain", "state")
        .values("domain", "state", "n")
    )
    for row in [*open_rows, *failed_rows]:
        state = JobState(row["state"])
        kind = "waiting" if state in _WAITING else state.value
        counts[(str(row["domain"]), kind)] += int(row["n"])
    return counts


async def _held_counts(names: set[str]) -> Counter[str]:
    rows = (
        await InboxItem.filter(state=JobState.HELD, domain__in=sorted(names))
        .annotate(n=Count("id"))
        .group_by("domain")
        .values("domain", "n")
    )
    return Counter({str(row["domain"]): int(row["n"]) for row in rows})


async def _decisions(model: type[Decision], names: set[str]) -> dict[str, Decision]:
    candidates = sorted({c for name in names for c in domain_candidates(name)})
    return {row.domain: row for row in await model.filter(domain__in=candidates)}


def _applying(decisions: dict[str, Decision], name: str) -> Decision | None:
    """The decision naming `name` itself, else its closest parent domain."""
    for candidate in sorted(domain_candidates(name), key=len, reverse=True):
        if candidate in decisions:
            return decisions[candidate]
    return None


def _row(
    name: str,
    peer: PeerDomain | None,
    counts: Counter[tuple[str, str]],
    held: Counter[str],
    policy: Policy,
    blocks: dict[str, DomainBlock],
    allows: dict[str, DomainAllow],
) -> PeerHealth:
    return PeerHealth(
        domain=name,
        standing=policy.standing(name),
        software=peer.software if peer else "",
        last_success_at=peer.last_success_at if peer else None,
        last_failure_at=peer.last_failure_at if peer else None,
        consecutive_failures=peer.consecutive_failures if peer else 0,
        unavailable_since=peer.unavailable_since if peer else None,
        deliveries_waiting=counts[(name, "waiting")],
        deliveries_paused=counts[(name, JobState.PAUSED.value)],
        deliveries_failed=counts[(name, JobState.FAILED.value)],
        inbox_held=held[name],
        block=_applying(blocks, name),
        allow=_applying(allows, name),
    )
