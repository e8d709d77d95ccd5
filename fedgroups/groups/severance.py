"""Defederation is never silent: who a change of federation policy cuts off, and why.

Local people are told when the admins stop federating with a server that hosts a group they
follow or fellow members of a group here, and again when federation resumes (Mastodon 4.3's
"severed relationships" notices do the same: mastodon/mastodon#27511). A group's page shows
visitors which servers it no longer reaches and the admins' public reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tortoise.expressions import Subquery

from fedgroups.models import (
    Account,
    Actor,
    DomainBlock,
    FederationMode,
    Group,
    GroupSubscription,
    GroupSubscriptionState,
    Membership,
    MembershipState,
    Notification,
    NotificationKind,
)
from fedgroups.models.domain import BlockSeverity, Policy, domain_candidates, policy_for

NOT_LISTED = "this instance federates only with servers its admins listed"
REFUSED = "refused by the admins"
SUSPENDED = "suspended by the admins"
_FOLLOWING = (GroupSubscriptionState.ACCEPTED, GroupSubscriptionState.PENDING)


@dataclass(frozen=True)
class Refusal:
    """Why this instance exchanges nothing with a domain, in words shown to members."""

    domain: str
    reason: str


async def refusals(domains: Iterable[str], policy: Policy | None = None) -> list[Refusal]:
    """The refused ones among `domains`, sorted, each with the admins' public reason."""
    wanted = sorted(set(domains))
    policy = policy or await policy_for(wanted)
    refused = [domain for domain in wanted if policy.refuses(domain)]
    if not refused:
        return []
    names = {name for domain in refused for name in domain_candidates(domain)}
    blocks = await DomainBlock.filter(domain__in=sorted(names), severity=BlockSeverity.SUSPEND)
    reasons = {block.domain: block.reason or SUSPENDED for block in blocks}
    return [Refusal(domain, _reason_for(domain, reasons, policy)) for domain in refused]


def _reason_for(domain: str, reasons: dict[str, str], policy: Policy) -> str:
    # The most specific block wins: a block of the host says more than one of its parent.
    for name in sorted(domain_candidates(domain), key=len, reverse=True):
        if name in reasons:
            return reasons[name]
    return NOT_LISTED if policy.mode == FederationMode.ALLOWLIST else REFUSED


async def refusal_of(domain: str) -> Refusal | None:
    """Why `domain` is refused, or None if this instance federates with it."""
    found = await refusals([domain])
    return found[0] if found else None


async def severed_servers(group: Group) -> list[Refusal]:
    """Servers of the group's members that this instance no longer federates with.

    Read from what `mark_groups` kept at the last policy change: the page asks this of every
    view, and scanning a big group's members each time would cost more than the page itself.
    """
    if not group.severed_domains:
        return []
    return await refusals(group.severed_domains)


async def mark_groups(cut: Iterable[str], restored: Iterable[str]) -> None:
    """Keep each group's list of servers it lost in step with a policy change."""
    cut, restored = set(cut), set(restored)
    changed = cut | restored
    if not changed:
        return
    members_there = Membership.filter(
        state=MembershipState.APPROVED, actor__domain__in=sorted(changed)
    ).values_list("group_id", flat=True)
    # Memberships outlast a block, so the groups to update are those with members there.
    for group in await Group.filter(id__in=Subquery(members_there)):
        before = set(group.severed_domains or [])
        after = (before - restored) | (cut & await _member_domains(group, cut))
        if after != before:
            group.severed_domains = sorted(after)
            await group.save(update_fields=["severed_domains"])


async def _member_domains(group: Group, among: set[str]) -> set[str]:
    domains = await (
        Actor.filter(
            domain__in=sorted(among),
            memberships__group_id=group.pk,
            memberships__state=MembershipState.APPROVED,
        )
        .distinct()
        .values_list("domain", flat=True)
    )
    return {str(domain) for domain in domains}


async def tell_members(cut: Iterable[str], restored: Iterable[str]) -> int:
    """Notify every local person a change concerns; returns how many notices were written."""
    cut, restored = list(cut), list(restored)
    await mark_groups(cut, restored)
    notices: list[Notification] = []
    for refusal in await refusals(cut):
        notices += await _notices(refusal.domain, NotificationKind.DEFEDERATED, refusal.reason)
    for domain in sorted(set(restored)):
        notices += await _notices(domain, NotificationKind.REFEDERATED, "")
    if notices:
        await Notification.bulk_create(notices)
    return len(notices)


async def _notices(domain: str, kind: NotificationKind, reason: str) -> list[Notification]:
    """One notice per remote group followed there, and per group here with members there."""
    notices = [
        Notification(
            account_id=account_id, kind=kind, actor_id=group_actor_id, domain=domain, detail=reason
        )
        for account_id, group_actor_id in await _followers_of_groups_on(domain)
    ]
    for account_id, group_id in await _members_of_groups_with_members_on(domain):
        notices.append(
            Notification(
                account_id=account_id, kind=kind, group_id=group_id, domain=domain, detail=reason
            )
        )
    return notices


async def _followers_of_groups_on(domain: str) -> list[tuple[int, int]]:
    """(account, remote group actor) for local people following a group hosted on `domain`."""
    follows = await GroupSubscription.filter(
        state__in=_FOLLOWING, group_actor__domain=domain, actor__is_local=True
    ).values_list("actor_id", "group_actor_id")
    accounts = dict(
        await Account.filter(actor_id__in=[actor for actor, _ in follows]).values_list(
            "actor_id", "id"
        )
    )
    return [(accounts[actor], group) for actor, group in follows if actor in accounts]


async def _members_of_groups_with_members_on(domain: str) -> list[tuple[int, int]]:
    """(account, group) for local members of groups here that have members on `domain`."""
    group_ids = await (
        Membership.filter(state=MembershipState.APPROVED, actor__domain=domain)
        .distinct()
        .values_list("group_id", flat=True)
    )
    if not group_ids:
        return []
    rows = await Account.filter(
        actor__memberships__group_id__in=list(group_ids),
        actor__memberships__state=MembershipState.APPROVED,
    ).values_list("id", "actor__memberships__group_id")
    return sorted({(int(account), int(group)) for account, group in rows})
