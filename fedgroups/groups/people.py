"""Member profiles: what a person shows of themselves, and the groups they share with a reader.

A profile never lists a person's groups to someone outside them (T66): only groups the
reader belongs to as well are named.
"""

from __future__ import annotations

from fedgroups.models import Account, Actor, Group, MembershipState


async def shared_groups(person: Actor, reader: Actor | None) -> list[Group]:
    """Groups where both `person` and `reader` are approved members."""
    if reader is None:
        return []
    theirs = set(
        await Group.filter(
            memberships__actor=person, memberships__state=MembershipState.APPROVED
        ).values_list("id", flat=True)
    )
    if not theirs:
        return []
    return (
        await Group.filter(
            id__in=sorted(theirs),
            memberships__actor=reader,
            memberships__state=MembershipState.APPROVED,
            actor__gone_at=None,
        )
        .order_by("name")
        .select_related("actor")
    )


async def account_of(person: Actor) -> Account | None:
    return await Account.get_or_none(actor=person)
