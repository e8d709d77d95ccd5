"""Deleting a local account: its posts and memberships go, and peers are told (Delete).

The actor row stays as a tombstone, so the name cannot be taken by someone else and the
Delete can still be signed with its key while it is being delivered.
"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from fedgroups.activitypub.activities import render_delete
from fedgroups.errors import ValidationError
from fedgroups.groups.accounts import password_matches
from fedgroups.groups.departures import account_deleted
from fedgroups.groups.membership import approved_members
from fedgroups.groups.outbox import new_activity_id, publish
from fedgroups.models import Account, Actor, Group, MembershipState, Session
from fedgroups.settings import Settings


async def _peers_who_know(person: Actor) -> list[Actor]:
    """Remote actors that may hold the person's posts: members of every group they were in."""
    groups = await Group.filter(
        memberships__actor=person,
        memberships__state__in=[MembershipState.APPROVED, MembershipState.PENDING],
    ).select_related("actor")
    peers: dict[int, Actor] = {}
    for group in groups:
        for member in await approved_members(group):
            if not member.is_local:
                peers[member.id] = member
    return list(peers.values())


async def delete_account(settings: Settings, account: Account, password: str) -> None:
    """Delete `account` after checking its password; federates a Delete of its actor.

    Each group also withdraws its boosts of the person's posts (`departures.account_deleted`).
    """
    if not password_matches(account.password_hash, password):
        raise ValidationError("That is not your password.", field="delete_password")
    person: Actor = account.actor
    recipients = await _peers_who_know(person)
    activity = render_delete(person.ap_id, new_activity_id(person), person.ap_id)
    async with in_transaction():
        await publish(person, activity, recipients, object_ap_id=person.ap_id, is_public=True)
        await account_deleted(person)
        await Session.filter(account=account).delete()
        person.display_name = person.summary = ""
        await person.save(update_fields=["display_name", "summary"])
        await account.delete()
