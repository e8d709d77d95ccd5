"""The group's boosts, in the form each member's software understands, and their withdrawal.

Microblogs (Mastodon and kin) get `Announce{object: "<post id>"}` and, when the post goes,
`Undo{Announce}`. FEP-1b12 software (Lemmy, PieFed, Mbin, fedgroups, ...) gets the author's
activity itself wrapped in an Announce: the Create, later the Update or the Delete. A member
whose software is unknown gets both, since each kind ignores the other's form
(federation-interop.md 4.3 and 4.5).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fedgroups.activitypub.activities import render_announce, render_delete, render_undo
from fedgroups.activitypub.nodeinfo import AnnounceStyle, announce_style
from fedgroups.federation.memo import remembered
from fedgroups.federation.software import software_by_domain
from fedgroups.groups.membership import approved_members
from fedgroups.groups.outbox import new_activity_id, publish
from fedgroups.models import Actor, Group, OutboxActivity, Post


@dataclass
class Audiences:
    """The members split by the boost form their software reads (a member may be in both)."""

    microblog: list[Actor] = field(default_factory=list)
    group_aware: list[Actor] = field(default_factory=list)

    def received(self, boost: dict[str, Any]) -> list[Actor]:
        """Who was sent this boost: a wrapped activity went to group software only."""
        if not isinstance(boost.get("object"), dict):
            return self.microblog
        aware = {actor.pk for actor in self.group_aware}
        return [actor for actor in self.microblog if actor.pk in aware]


async def audiences_of(group: Group) -> Audiences:
    """Remembered for a batch's posts: a post changes neither members nor their software."""
    return await remembered(("audiences", group.pk), lambda: _audiences_of(group))


async def _audiences_of(group: Group) -> Audiences:
    members = await approved_members(group)
    software = await software_by_domain({member.domain for member in members})
    audiences = Audiences()
    for member in members:
        style = announce_style(software.get(member.domain, ""))
        if style != AnnounceStyle.ACTIVITY:
            audiences.microblog.append(member)
        if style != AnnounceStyle.OBJECT:
            audiences.group_aware.append(member)
    return audiences


def _is_public(group: Group, post: Post) -> bool:
    return post.is_public and not group.is_private


async def announce(group: Group, post: Post) -> None:
    """The group boosts the post to all its members, the author included."""
    audiences = await audiences_of(group)
    wrapped = post.create_activity
    if audiences.microblog or wrapped is None:
        everyone = audiences.microblog if wrapped is not None else _all(audiences)
        await _publish_announce(group, post, post.ap_id, everyone)
    if audiences.group_aware and wrapped is not None:
        await _publish_announce(group, post, wrapped, audiences.group_aware)


def _all(audiences: Audiences) -> list[Actor]:
    unique = {actor.pk: actor for actor in audiences.microblog + audiences.group_aware}
    return list(unique.values())


async def _publish_announce(
    group: Group, post: Post, announced: str | dict[str, Any], recipients: list[Actor]
) -> None:
    if not recipients:
        return
    activity = render_announce(
        group.actor.ap_id,
        new_activity_id(group.actor),
        announced,
        followers=group.actor.followers_url,
        is_public=_is_public(group, post),
        author_id=post.author.ap_id if _is_public(group, post) else "",
    )
    await publish(
        group.actor,
        activity,
        recipients,
        group=group,
        object_ap_id=post.ap_id,
        is_public=_is_public(group, post),
        post=post,
    )


async def relay_activity(group: Group, post: Post, activity: dict[str, Any]) -> None:
    """An Update or Delete by the author, wrapped for FEP-1b12 members (microblogs ignore it)."""
    audiences = await audiences_of(group)
    await _publish_announce(group, post, activity, audiences.group_aware)


async def relay_group_activity(
    group: Group, activity: dict[str, Any], *, object_ap_id: str = "", among_members: bool = False
) -> None:
    """A moderation activity (Add, Remove, Lock, Block...) announced by the group to FEP-1b12
    members, who take moderation only when the group announces it (FEP-1b12 "Group moderation").

    Microblogs ignore these, so they are not sent any. `among_members` keeps the Announce off
    Public even in a public group (bans are the members' business, not the world's).
    """
    audiences = await audiences_of(group)
    if not audiences.group_aware:
        return
    is_public = not group.is_private and not among_members
    wrapper = render_announce(
        group.actor.ap_id,
        new_activity_id(group.actor),
        activity,
        followers=group.actor.followers_url,
        is_public=is_public,
    )
    await publish(
        group.actor,
        wrapper,
        audiences.group_aware,
        group=group,
        object_ap_id=object_ap_id,
        is_public=is_public,
    )


async def relay_removal(group: Group, post: Post) -> None:
    """The group itself removes the post for FEP-1b12 members (Lemmy's "remove", interop 4.6).

    Used when there is no Delete of the author's to relay, e.g. their whole account went.
    """
    removal = render_delete(group.actor.ap_id, new_activity_id(group.actor), post.ap_id)
    await relay_activity(group, post, removal)


async def withdraw_announces(group: Group, post: Post) -> int:
    """Undo every boost of the post for the microblog members that got it; returns how many.

    Mastodon keeps whichever boost form it processed first, so both are undone (interop 4.3).
    """
    audiences = await audiences_of(group)
    if not audiences.microblog:
        return 0
    boosts = await OutboxActivity.filter(
        group=group, activity_type="Announce", object_ap_id=post.ap_id
    ).order_by("id")
    sent = 0
    for boost in boosts:
        recipients = audiences.received(boost.payload)
        if _is_relay(boost.payload) or not recipients:
            continue  # an Announce{Update|Delete} is not a boost
        sent += 1
        undo = render_undo(group.actor.ap_id, new_activity_id(group.actor), boost.payload)
        await publish(
            group.actor,
            undo,
            recipients,
            group=group,
            object_ap_id=post.ap_id,
            is_public=boost.is_public,
        )
    return sent


def _is_relay(announce: dict[str, Any]) -> bool:
    inner = announce.get("object")
    return isinstance(inner, dict) and inner.get("type") in ("Update", "Delete")
