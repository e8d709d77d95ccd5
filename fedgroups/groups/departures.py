"""A remote account deleted for good: its posts, memberships and deliveries go with it."""

from __future__ import annotations

from datetime import UTC, datetime

from fedgroups.groups.posting import remove_author_content
from fedgroups.models import Actor, HeldPost, Membership, MembershipState


async def account_deleted(actor: Actor) -> int:
    """Remove everything the account left in our groups; returns how many posts went.

    Its boosts are undone and FEP-1b12 members are told of the removal; what waited for
    review is dropped. Memberships end as "left" so a banned account stays banned.
    Deliveries stop because the actor is gone.
    """
    removed = await remove_author_content(actor)
    await HeldPost.filter(author=actor).delete()
    await Membership.filter(
        actor=actor, state__in=[MembershipState.APPROVED, MembershipState.PENDING]
    ).update(state=MembershipState.LEFT, decided_at=datetime.now(UTC))
    if actor.gone_at is None:
        actor.gone_at = datetime.now(UTC)
        await actor.save(update_fields=["gone_at"])
    return removed
