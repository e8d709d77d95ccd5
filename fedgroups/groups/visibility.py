"""THE place that decides who may see what. Every read path asks here, nothing else decides.

A viewer is the verified actor behind a request (a signed GET, or a logged-in member's
session), or None for an anonymous reader. Members-only groups show anonymous readers and
non-members nothing but the group's own profile, and the same 404 as for unknown ids.
"""

from __future__ import annotations

from fedgroups.models import Actor, Group, Membership, MembershipState


async def is_approved_member(group: Group, viewer: Actor | None) -> bool:
    if viewer is None:
        return False
    return await Membership.exists(group=group, actor=viewer, state=MembershipState.APPROVED)


async def can_read_content(group: Group, viewer: Actor | None) -> bool:
    """Posts, activities and the outbox: public groups to all, members-only groups to members."""
    if not group.is_private:
        return True
    return await is_approved_member(group, viewer)


async def can_list_followers(group: Group, viewer: Actor | None) -> bool:
    """Who follows a group is shown for public groups only; members-only groups give a count."""
    return not group.is_private
