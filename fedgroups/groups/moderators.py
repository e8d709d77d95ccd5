"""Who moderates a group: appointing and dismissing moderators, and keeping peers in sync.

The moderators collection (the group's `attributedTo`, FEP-1b12) lists the approved members
whose role is moderator or owner. Each change is announced to FEP-1b12 members as an `Add` or
`Remove` targeting that collection, so their servers accept moderation only from the people
it lists (federation-interop.md 4.6). Microblogs have no use for it and get nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from tortoise.transactions import in_transaction

from fedgroups.activitypub.moderation import render_moderators_change
from fedgroups.errors import Conflict, NotFound
from fedgroups.groups.announcing import relay_group_activity
from fedgroups.groups.membership import leave_group
from fedgroups.groups.modlog import ADMIN, Acting, record, signer_of
from fedgroups.groups.outbox import new_activity_id
from fedgroups.models import (
    Actor,
    ActorKind,
    Group,
    Membership,
    MembershipRole,
    MembershipState,
    ModerationAction,
)

MODERATING = (MembershipRole.MODERATOR, MembershipRole.OWNER)


async def moderates(group: Group, actor: Actor) -> bool:
    """True when the group's moderators collection lists `actor` (moderator or owner)."""
    return await Membership.exists(
        group=group, actor=actor, state=MembershipState.APPROVED, role__in=MODERATING
    )


async def moderators_of(group: Group) -> list[Actor]:
    return await Actor.filter(
        memberships__group=group,
        memberships__state=MembershipState.APPROVED,
        memberships__role__in=MODERATING,
    ).order_by("id")


async def appoint_moderator(group: Group, actor: Actor, acting: Acting = ADMIN) -> Membership:
    """Make a member a moderator: the collection gains them, FEP-1b12 members get `Add`.

    Someone from another server must have joined first; a local account who has not is made a
    member here and now, as the group's owner is.
    """
    membership = await Membership.get_or_none(group=group, actor=actor)
    joined = membership is not None and membership.state == MembershipState.APPROVED
    if not joined and not (actor.is_local and actor.kind == ActorKind.PERSON):
        raise NotFound(f"{actor.handle} is not a member of {group.slug}: they must join first")
    if membership is not None and membership.state == MembershipState.BANNED:
        raise NotFound(f"{actor.handle} is banned from {group.slug}")
    if joined and membership is not None and membership.role in MODERATING:
        raise Conflict(f"{actor.handle} already moderates {group.slug}")
    async with in_transaction():
        if membership is None:
            membership = Membership(group=group, actor=actor)
        membership.state = MembershipState.APPROVED
        membership.role = MembershipRole.MODERATOR
        await membership.save()
        await record(group, ModerationAction.APPOINT_MODERATOR, acting, subject=actor)
        await _announce_change(group, "Add", actor, acting)
    return membership


async def dismiss_moderator(group: Group, actor: Actor, acting: Acting = ADMIN) -> Membership:
    """A moderator goes back to being a member: FEP-1b12 members get `Remove`.

    The owner stays: a group always has someone answerable for it.
    """
    membership = await Membership.get_or_none(
        group=group, actor=actor, role=MembershipRole.MODERATOR
    )
    if membership is None:
        raise NotFound(f"{actor.handle} is not a moderator of {group.slug}")
    async with in_transaction():
        membership.role = MembershipRole.MEMBER
        await membership.save(update_fields=["role"])
        await record(group, ModerationAction.DISMISS_MODERATOR, acting, subject=actor)
        if membership.state == MembershipState.APPROVED:  # only then was it listed
            await _announce_change(group, "Remove", actor, acting)
    return membership


async def member_left(group: Group, actor: Actor) -> bool:
    """Undo{Follow}: the person leaves; if they moderated, peers learn the list lost them."""
    was_listed = await moderates(group, actor)
    async with in_transaction():
        left = await leave_group(group, actor)
        if left and was_listed:
            await _announce_change(group, "Remove", actor, ADMIN)
    return left


async def step_down(group: Group, actor: Actor) -> None:
    """A banned moderator is no longer one; called inside the ban's transaction."""
    membership = await Membership.get_or_none(group=group, actor=actor, role__in=MODERATING)
    if membership is None:
        return
    was_listed = membership.state == MembershipState.APPROVED
    membership.role = MembershipRole.MEMBER
    membership.decided_at = datetime.now(UTC)
    await membership.save(update_fields=["role", "decided_at"])
    if was_listed:
        await _announce_change(group, "Remove", actor, ADMIN)


async def _announce_change(
    group: Group, kind: Literal["Add", "Remove"], actor: Actor, acting: Acting
) -> None:
    signer = signer_of(group, acting)
    activity = render_moderators_change(
        kind,
        signer.ap_id,
        new_activity_id(signer),
        actor.ap_id,
        group_id=group.actor.ap_id,
        followers=group.actor.followers_url,
        is_public=not group.is_private,
    )
    await relay_group_activity(group, activity)
