"""Joining and leaving groups: following a group is asking to join it.

Open groups accept at once; members-only groups keep the request pending until a moderator
approves or rejects it (`fedgroups group approve|reject`). Banned actors are refused.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from html import escape
from typing import Any, Literal

from fedgroups.activitypub.activities import (
    render_block,
    render_create,
    render_follow_answer,
    render_undo,
)
from fedgroups.activitypub.notes import render_direct_note
from fedgroups.errors import Conflict, NotFound
from fedgroups.federation.memo import is_remembering, remember, remembered
from fedgroups.groups.content import render_plain_paragraphs
from fedgroups.groups.outbox import new_activity_id, publish
from fedgroups.models import (
    Actor,
    Group,
    Membership,
    MembershipState,
    OutboxActivity,
)
from fedgroups.models.domain import policy_for


def _follow_of(membership: Membership, group: Group, actor: Actor) -> dict[str, Any]:
    """The Follow we answer: the one the actor sent (Mastodon matches Accept by its id)."""
    return {
        "id": membership.follow_ap_id,
        "type": "Follow",
        "actor": actor.ap_id,
        "object": group.actor.ap_id,
    }


async def request_membership(group: Group, actor: Actor, follow_ap_id: str) -> Membership:
    """Handle a Follow of `group` by `actor`: accept, hold for review, or refuse."""
    membership, _ = await Membership.get_or_create(
        group=group, actor=actor, defaults={"follow_ap_id": follow_ap_id}
    )
    if membership.state == MembershipState.BANNED:
        membership.follow_ap_id = follow_ap_id
        await _answer(group, actor, membership, accepted=False)
        return membership
    membership.follow_ap_id = follow_ap_id
    already_member = membership.state == MembershipState.APPROVED
    if already_member or not group.is_private:
        # Re-follows (e.g. after Mastodon's key-change refollow) are accepted again.
        membership.state = MembershipState.APPROVED
        membership.decided_at = datetime.now(UTC)
        await membership.save()
        await _answer(group, actor, membership, accepted=True)
        if not already_member:
            await _welcome(group, actor)
    else:
        membership.state = MembershipState.PENDING
        await membership.save()
    return membership


async def decide_membership(group: Group, actor: Actor, *, approve: bool) -> Membership:
    """A moderator's decision on a pending request."""
    membership = await Membership.get_or_none(
        group=group, actor=actor, state=MembershipState.PENDING
    )
    if membership is None:
        raise NotFound(f"no pending request from {actor.handle} in {group.slug}")
    membership.state = MembershipState.APPROVED if approve else MembershipState.REJECTED
    membership.decided_at = datetime.now(UTC)
    await membership.save()
    await _answer(group, actor, membership, accepted=approve)
    if approve:
        await _welcome(group, actor)
    return membership


async def leave_group(group: Group, actor: Actor) -> bool:
    """Undo Follow: the actor leaves. False if they were not a member."""
    updated = await Membership.filter(
        group=group,
        actor=actor,
        state__in=[MembershipState.APPROVED, MembershipState.PENDING],
    ).update(state=MembershipState.LEFT, decided_at=datetime.now(UTC))
    return bool(updated)


async def ban_member(group: Group, actor: Actor) -> Membership:
    """Ban `actor` from `group`: Block and Reject sent, membership ended, future follows refused.

    Mastodon, on the Block, drops the follow both ways and records it; the Reject is what
    removes the follower on servers that ignore Block (interop 4.1 and 4.6).
    """
    if actor.pk == group.actor.pk:
        raise Conflict("a group cannot ban itself")
    membership, _ = await Membership.get_or_create(group=group, actor=actor)
    was_following = membership.state in (MembershipState.APPROVED, MembershipState.PENDING)
    membership.state = MembershipState.BANNED
    membership.decided_at = datetime.now(UTC)
    await membership.save()
    block = render_block(group.actor.ap_id, new_activity_id(group.actor), actor.ap_id)
    await publish(
        group.actor, block, [actor], group=group, object_ap_id=actor.ap_id, is_public=False
    )
    if was_following and membership.follow_ap_id:
        await _answer(group, actor, membership, accepted=False)
    return membership


async def unban_member(group: Group, actor: Actor) -> Membership:
    """Lift a ban: Undo{Block} sent; the person may ask to join again."""
    membership = await Membership.get_or_none(
        group=group, actor=actor, state=MembershipState.BANNED
    )
    if membership is None:
        raise NotFound(f"{actor.handle} is not banned from {group.slug}")
    membership.state = MembershipState.LEFT
    membership.decided_at = datetime.now(UTC)
    await membership.save()
    block = (
        await OutboxActivity.filter(group=group, activity_type="Block", object_ap_id=actor.ap_id)
        .order_by("-id")
        .first()
    )
    if block is not None:
        undo = render_undo(group.actor.ap_id, new_activity_id(group.actor), block.payload)
        await publish(group.actor, undo, [actor], group=group, is_public=False)
    return membership


async def _answer(group: Group, actor: Actor, membership: Membership, *, accepted: bool) -> None:
    kind: Literal["Accept", "Reject"] = "Accept" if accepted else "Reject"
    follow = _follow_of(membership, group, actor)
    activity = render_follow_answer(kind, group.actor.ap_id, new_activity_id(group.actor), follow)
    await publish(group.actor, activity, [actor], group=group, is_public=False)


MAX_RULES_IN_WELCOME = 2_000


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


async def _welcome(group: Group, actor: Actor) -> None:
    """A newcomer from another server gets the group's rules in a private mention.

    Mastodon shows nothing of an Accept, and nobody confirms rules on their own server before
    posting, so the rules come to them, with a link to the group's page where they stay.
    """
    if actor.is_local or not group.rules.strip():
        return
    page = escape(group.actor.url or group.actor.ap_id, quote=True)
    handle = f"@{actor.username}@{actor.domain}"
    mention = f'<a href="{escape(actor.url or actor.ap_id, quote=True)}" class="u-url mention">'
    content = (
        f"<p>{mention}{escape(handle)}</a> Welcome to {escape(group.name)}! Please read the "
        f'group\'s rules before you post; they are also on <a href="{page}">{page}</a>.</p>'
        + render_plain_paragraphs(_cut(group.rules, MAX_RULES_IN_WELCOME))
    )
    note_id = f"{group.actor.ap_id}/welcome/{secrets.token_urlsafe(12)}"
    note = render_direct_note(
        note_id, group.actor.ap_id, actor.ap_id, handle, content, datetime.now(UTC)
    )
    create = render_create(group.actor.ap_id, new_activity_id(group.actor), note)
    await publish(group.actor, create, [actor], group=group, is_public=False)


_ADDRESSING = (
    "id",
    "ap_id",
    "username",
    "domain",
    "is_local",
    "inbox_url",
    "shared_inbox_url",
    "gone_at",
)


async def approved_members(group: Group) -> list[Actor]:
    """Everyone the group delivers to: approved members on servers this instance talks to
    (not suspended, and listed in allowlist mode; limited servers still receive).

    Only the columns addressing needs are read: every post of a big group asks for all its
    members, and whole rows (keys, texts, dates) were most of the cost of processing one.
    """
    members = await Actor.filter(
        memberships__group=group, memberships__state=MembershipState.APPROVED
    ).only(*_ADDRESSING)
    policy = await policy_for({actor.domain for actor in members if not actor.is_local})
    return [actor for actor in members if actor.is_local or not policy.refuses(actor.domain)]


async def is_member(group: Group, actor: Actor) -> bool:
    if not is_remembering():
        return await Membership.exists(group=group, actor=actor, state=MembershipState.APPROVED)
    return group.pk in await remembered(
        ("groups of", actor.pk), lambda: _groups_of([actor.pk], actor.pk)
    )


async def recall_memberships(actor_ids: list[int]) -> None:
    """Read ahead, for a batch, which groups each of these actors is an approved member of."""
    if actor_ids:
        await _groups_of(actor_ids, actor_ids[0])


async def _groups_of(actor_ids: list[int], wanted: int) -> frozenset[int]:
    """The approved groups of each actor, remembered per actor; those of `wanted` returned."""
    rows = await Membership.filter(
        actor_id__in=actor_ids, state=MembershipState.APPROVED
    ).values_list("actor_id", "group_id")
    groups: dict[int, set[int]] = {actor_id: set() for actor_id in actor_ids}
    for actor_id, group_id in rows:
        groups[actor_id].add(group_id)
    for actor_id, ids in groups.items():
        remember(("groups of", actor_id), frozenset(ids))
    return frozenset(groups[wanted])
