"""Joining groups on other servers: a local person follows a remote group, the group answers.

Following a group is asking to join it. The group's Accept or Reject, a later Reject (removal)
and a Block (ban) arrive through the inbox and are recorded here. Services take an `Account`
or its Person `Actor`, and a handle (`@group@host`, `group@host`) or the group's actor URL.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from fedgroups.activitypub.activities import render_undo
from fedgroups.activitypub.person_activities import render_follow
from fedgroups.activitypub.webfinger import parse_handle
from fedgroups.errors import Conflict, NotFound, ValidationError
from fedgroups.federation.context import Federation
from fedgroups.federation.discovery import resolve_actor
from fedgroups.groups.notifications import notify_remote_decision
from fedgroups.groups.outbox import new_activity_id, publish
from fedgroups.models import (
    Account,
    Actor,
    ActorKind,
    GroupSubscription,
    GroupSubscriptionState,
)

State = GroupSubscriptionState
FOLLOWING = (State.PENDING, State.ACCEPTED)


async def local_person(account_or_actor: Account | Actor) -> Actor:
    """The local Person actor behind an account (or the actor itself)."""
    if isinstance(account_or_actor, Account):
        await account_or_actor.fetch_related("actor")
        actor: Actor = account_or_actor.actor
    else:
        actor = account_or_actor
    if not actor.is_local or actor.kind != ActorKind.PERSON:
        raise ValidationError(f"@{actor.handle} is not a person on this instance")
    return actor


def _check_remote_group(group: Actor) -> None:
    if group.is_local:
        raise ValidationError(f"@{group.handle} is hosted here: join it on this instance")
    if group.kind != ActorKind.GROUP:
        raise ValidationError(f"@{group.handle} is not a group")


async def follow_remote_group(
    federation: Federation, account_or_actor: Account | Actor, handle_or_url: str
) -> GroupSubscription:
    """Ask to join a group on another server: resolve it (WebFinger), store, send a Follow.

    Returns the subscription, `pending` until the group answers. Following again while
    pending or accepted changes nothing; a group that banned the person raises Conflict.
    """
    person = await local_person(account_or_actor)
    group = await resolve_actor(federation, handle_or_url)
    _check_remote_group(group)
    return await subscribe(person, group)


async def subscribe(person: Actor, group: Actor) -> GroupSubscription:
    """Send `group` a Follow from `person`, unless one is pending or accepted already."""
    subscription = await GroupSubscription.get_or_none(actor=person, group_actor=group)
    if subscription is not None and subscription.state in FOLLOWING:
        return subscription
    if subscription is not None and subscription.state == State.BANNED:
        raise Conflict(f"@{group.handle} has banned @{person.handle}")
    follow = render_follow(new_activity_id(person), person.ap_id, group.ap_id)
    try:
        async with in_transaction():
            if subscription is None:
                subscription = await GroupSubscription.create(
                    actor=person, group_actor=group, follow_ap_id=follow["id"]
                )
            else:
                subscription.state = State.PENDING
                subscription.follow_ap_id = follow["id"]
                subscription.decided_at = None
                await subscription.save()
            await publish(person, follow, [group], object_ap_id=group.ap_id, is_public=False)
    except IntegrityError:  # a concurrent follow of the same group won
        return await GroupSubscription.get(actor=person, group_actor=group)
    return subscription


async def unfollow_remote_group(
    federation: Federation, account_or_actor: Account | Actor, handle_or_url: str
) -> GroupSubscription:
    """Leave a remote group (or withdraw a pending request): Undo the Follow.

    Works while the group's server is down: a group the person follows is found here first.
    """
    person = await local_person(account_or_actor)
    group = await followed_group(person, handle_or_url)
    if group is None:
        group = await resolve_actor(federation, handle_or_url)
    return await unsubscribe(person, group)


async def unsubscribe(person: Actor, group: Actor) -> GroupSubscription:
    subscription = await GroupSubscription.get_or_none(
        actor=person, group_actor=group, state__in=FOLLOWING
    )
    if subscription is None:
        raise NotFound(f"@{person.handle} does not follow @{group.handle}")
    follow = render_follow(subscription.follow_ap_id, person.ap_id, group.ap_id)
    undo = render_undo(person.ap_id, new_activity_id(person), follow)
    async with in_transaction():
        subscription.state = State.LEFT
        subscription.decided_at = datetime.now(UTC)
        await subscription.save()
        await publish(person, undo, [group], object_ap_id=group.ap_id, is_public=False)
    return subscription


async def followed_group(person: Actor, handle_or_url: str) -> Actor | None:
    """A group the person has a subscription to, named by handle or id, without any fetch."""
    text = handle_or_url.strip()
    groups = Actor.filter(local_subscribers__actor=person, is_local=False)
    if text.startswith(("https://", "http://")):
        return await groups.filter(ap_id=text).first()
    handle = parse_handle(text)
    return await groups.filter(domain=handle.domain, username__iexact=handle.username).first()


# --- the group's answers, recorded by the inbox handlers ---------------------------------


async def _answered(group: Actor, follow_id: str, follower_id: str) -> GroupSubscription | None:
    """The subscription an answer is about: by the Follow's id, else by who followed whom.

    Only subscriptions to `group` itself (the verified sender) can match, so nobody else
    can accept, reject or ban on a group's behalf.
    """
    subscriptions = GroupSubscription.filter(group_actor=group)
    if follow_id:
        found = await subscriptions.filter(follow_ap_id=follow_id).first()
        if found is not None:
            return found
    if follower_id:
        return await subscriptions.filter(actor__ap_id=follower_id, actor__is_local=True).first()
    return None


async def record_follow_answer(
    group: Actor, follow_id: str, follower_id: str, *, accepted: bool
) -> GroupSubscription | None:
    """The group accepted or rejected a Follow; a Reject after an Accept removes the member."""
    subscription = await _answered(group, follow_id, follower_id)
    if subscription is None:
        return None
    old = subscription.state
    if accepted and old == State.PENDING:
        subscription.state = State.ACCEPTED
    elif not accepted and old == State.PENDING:
        subscription.state = State.REJECTED
    elif not accepted and old == State.ACCEPTED:
        subscription.state = State.REMOVED
    else:
        return subscription  # late, repeated or out-of-date answers change nothing
    subscription.decided_at = datetime.now(UTC)
    await subscription.save(update_fields=["state", "decided_at", "updated_at"])
    if old == State.PENDING:
        person = await Actor.get(id=subscription.actor_id)  # type: ignore[attr-defined]
        await notify_remote_decision(person, group, approved=accepted)
    return subscription


async def record_ban(group: Actor, person_id: str) -> GroupSubscription | None:
    """The group blocked a local person: banned, no more following or posting there."""
    person = await Actor.get_or_none(ap_id=person_id, is_local=True, kind=ActorKind.PERSON)
    if person is None:
        return None
    subscription = await GroupSubscription.get_or_none(actor=person, group_actor=group)
    if subscription is None:
        if group.kind != ActorKind.GROUP:
            return None  # a person blocking a person is not a group decision
        subscription = GroupSubscription(actor=person, group_actor=group)
    subscription.state = State.BANNED
    subscription.decided_at = datetime.now(UTC)
    await subscription.save()
    return subscription


async def record_unban(group: Actor, person_id: str) -> GroupSubscription | None:
    """Undo of a Block: the person may ask to join again."""
    subscription = await GroupSubscription.get_or_none(
        group_actor=group, actor__ap_id=person_id, actor__is_local=True, state=State.BANNED
    )
    if subscription is None:
        return None
    subscription.state = State.LEFT
    subscription.decided_at = datetime.now(UTC)
    await subscription.save(update_fields=["state", "decided_at", "updated_at"])
    return subscription


# --- lookups for pages and commands ------------------------------------------------------


async def subscriptions_of(person: Actor) -> list[GroupSubscription]:
    """Every group the person follows or asked to, newest first, with the group loaded."""
    return (
        await GroupSubscription.filter(actor=person)
        .exclude(state=State.LEFT)
        .order_by("-id")
        .select_related("group_actor")
    )


async def subscription_to(person: Actor, group: Actor) -> GroupSubscription | None:
    return await GroupSubscription.get_or_none(actor=person, group_actor=group)


async def is_followed_here(group: Actor) -> bool:
    """True when at least one local person is an accepted member of `group`."""
    return await GroupSubscription.exists(group_actor=group, state=State.ACCEPTED)
